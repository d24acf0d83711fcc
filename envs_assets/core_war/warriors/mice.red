;redcode-94
;name Mice
;author selfplay-envs
;strategy Replicator in the style of Chip Wendell's Mice (1986): copies its seven
;strategy cells backwards to a spot far away, starts a process there with SPL,
;strategy moves the target by a fixed gap and copies again. Copies multiply faster
;strategy than a stone can bomb them.

len     equ     7               ; cells copied: ptr+7 down to ptr+1
gap     equ     1531            ; how far each new copy lands from the last one

ptr     dat.f   #0, #0          ; B-field: copy counter (cell not copied)
start   mov.ab  #len, ptr
loop    mov.i   @ptr, <dest     ; copy one cell, last one first
        djn.b   loop, ptr
        spl.b   @dest, #0       ; start the copy (dest now points at its 'start')
        add.ab  #gap, dest
        jmz.b   start, ptr      ; counter is 0 here: always jumps
dest    dat.f   #0, #2011       ; where the next copy's last cell goes
        end     start
