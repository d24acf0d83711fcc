;redcode-94
;name Quick Dwarf
;author selfplay-envs
;strategy Quickscanner. In its first 18 cycles it compares eight pairs of cells
;strategy 4000 apart, spread over the core; a pair that differs holds code. It lays
;strategy a DAT carpet over nine cells around both cells of the last pair that
;strategy differed, then settles into a dwarf that bombs every 32nd cell.
;assert CORESIZE == 8000

half    equ     4000
step    equ     2976            ; 32 * 93: never hits our own cells

ptr     dat.f   #0, #0          ; B-field: where the hit was, relative to ptr
start   seq.i   ptr+300, ptr+300+half
        mov.ab  #300, ptr
        seq.i   ptr+800, ptr+800+half
        mov.ab  #800, ptr
        seq.i   ptr+1300, ptr+1300+half
        mov.ab  #1300, ptr
        seq.i   ptr+1800, ptr+1800+half
        mov.ab  #1800, ptr
        seq.i   ptr+2300, ptr+2300+half
        mov.ab  #2300, ptr
        seq.i   ptr+2800, ptr+2800+half
        mov.ab  #2800, ptr
        seq.i   ptr+3300, ptr+3300+half
        mov.ab  #3300, ptr
        seq.i   ptr+3800, ptr+3800+half
        mov.ab  #3800, ptr
        jmz.b   stone, ptr      ; no difference seen: straight to the dwarf
        sub.ab  #4, ptr         ; carpet from 4 cells below the hit ...
        mov.ba  ptr, ptr
        add.a   #half, ptr      ; ... and from 4 cells below its partner
carpet  mov.i   bomb, }ptr
        mov.i   bomb, >ptr
        djn.b   carpet, #9
stone   add.ab  #step, sbomb
        mov.i   sbomb, @sbomb
        jmp     stone
bomb    dat.f   #0, #0
sbomb   dat.f   #0, #0
        end     start
