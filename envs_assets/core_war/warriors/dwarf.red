;redcode-94
;name Dwarf
;author selfplay-envs
;strategy Stone: drops a DAT bomb on every fourth cell of the core, forever.
;strategy The bomb holds the pointer in its B-field. 4 divides the core size and
;strategy the code sits at offsets 1-3 from a multiple of 4, so it never hits itself.
;assert CORESIZE % 4 == 0

step    equ     4

loop    add.ab  #step, bomb
        mov.i   bomb, @bomb
        jmp     loop
bomb    dat.f   #0, #0
        end     loop
