;redcode-94
;name Comparator
;author selfplay-envs
;strategy CMP scanner. Compares two cells 4000 apart, stepping 12 cells at a time;
;strategy empty core is all alike, so two cells that differ mean an enemy near one
;strategy of them: bomb both with DAT and scan on. After 332 comparisons (the
;strategy whole core but its own code) it switches to a core clear that
;strategy spares its own cells.
;assert CORESIZE == 8000

step    equ     12
half    equ     4000

scan    add.f   incr, ptr
ptr     seq.i   $step, $half+step ; equal: skip the attack
        jmp     hit
count   djn.b   scan, #332
        jmp     rearm
hit     mov.i   bomb, *ptr      ; bomb both candidates
        mov.i   bomb, @ptr
        jmp     count
rearm   mov.ab  #CORESIZE-(bomb-scan+1), bomb
clear   mov.i   bomb, @bomb
        djn.b   clear, bomb
        jmp     rearm
incr    dat.f   #step, #step
bomb    dat.f   #0, #0
        end     scan
