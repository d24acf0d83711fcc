;redcode-94
;name Ring of Three
;author selfplay-envs
;strategy A three-point imp ring. Three processes run the imp MOV.I #0, 2667 at
;strategy cells 2667 apart (3 * 2667 = 8001 = 1 modulo 8000), so each one writes
;strategy the cell the next one executes, and the ring as a whole advances one
;strategy cell every three steps. One DAT bomb kills only one imp of a lone imp,
;strategy but the ring needs all three, so it is launched carefully: three
;strategy processes, then a JMP table that sends them out in order.
;assert CORESIZE == 8000

dist    equ     2667

start   spl     1               ; two processes
        mov.i   -1, 0           ; the first turns this cell into SPL 1, which
                                ; the second then executes: three processes
        jmp     }vec            ; each takes the next entry of the table
vec     dat.f   #1, #0          ; A-field: offset of the next table entry
        jmp     imp
        jmp     imp+dist
        jmp     imp+2*dist
imp     mov.i   #0, dist
        end     start
