;redcode-94
;name Needle
;author selfplay-envs
;strategy B-scanner. Looks at every 16th cell for non-zero fields (empty core is
;strategy all zeros, code is not) with JMZ.F. A hit gets a SPL 0 stun bomb, which
;strategy ties the enemy's processes up; its own fields are zero, so it is never
;strategy found again. When the pointer comes back to itself the pass is over and
;strategy a DAT clear that spares its own cells kills everything stunned.
;assert CORESIZE == 8000

step    equ     3024            ; 16 * 189, and 189 is prime to 500

scan    add.ab  #step, ptr
        jmz.f   scan, @ptr      ; empty: keep looking
        jmz.b   rearm, ptr      ; the pointer is back home: the pass is over
        mov.i   stun, @ptr
        jmp     scan
rearm   mov.ab  #CORESIZE-(bomb-scan+1), bomb
clear   mov.i   bomb, @bomb
        djn.b   clear, bomb
        jmp     rearm
stun    spl.b   #0, #0
ptr     dat.f   #1, #0          ; A-field non-zero: it finds itself at B = 0
bomb    dat.f   #0, #0
        end     scan
