;redcode-94
;name Silk Road
;author selfplay-envs
;strategy Paper in the style of Silk. Eight processes run the same three-line
;strategy body in lockstep: SPL @0 starts eight processes at the next copy, and
;strategy the MOV with post-increments copies the body there, one cell per
;strategy process, before the new processes reach it. Each process also drops
;strategy one imp-killing bomb. The paper keeps moving and multiplying, so bombs
;strategy rarely catch all of it.

dist    equ     2365            ; distance from one copy to the next

start   spl     1
        spl     1
        spl     1               ; eight processes
silk    spl     @0, #dist       ; new copy's processes start at silk+B
        mov.i   }silk, >silk    ; copy one cell of the body (A and B advance)
        mov.i   bomb, >1777     ; bomb a cell further on each time
bomb    dat.f   >2667, >5334    ; the body ends here: old processes die
        end     start
