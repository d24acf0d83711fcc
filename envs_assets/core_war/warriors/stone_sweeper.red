;redcode-94
;name Stone Sweeper
;author selfplay-envs
;strategy Stone then core clear. Phase 1 drops 499 DAT bombs, one on every 16th
;strategy cell (step 2992 = 16 * 187, and 187 is prime to 500), so it never hits its
;strategy own eight cells. Phase 2 wipes every cell of the core but its own with
;strategy DAT, counting down from the cell below its first instruction, then starts
;strategy the wipe again.
;assert CORESIZE == 8000

step    equ     2992

start   mov.i   bomb, @bomb     ; phase 1: bomb where the pointer says
        add.ab  #step, bomb
        djn.b   start, #499
rearm   mov.ab  #CORESIZE-(bomb-start+1), bomb
clear   mov.i   bomb, @bomb     ; phase 2: wipe bomb+N .. bomb+1
        djn.b   clear, bomb
        jmp     rearm
bomb    dat.f   #0, #step
        end     start
