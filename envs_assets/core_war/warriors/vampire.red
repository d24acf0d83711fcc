;redcode-94
;name Nosferatu
;author selfplay-envs
;strategy Vampire. Instead of DAT bombs it drops fangs: JMP instructions that send
;strategy any process executing them into its pit, a SPL 0 loop where captured
;strategy processes multiply uselessly and starve the enemy's real code. After 499
;strategy fangs (one every 16th cell) it wipes the core, the pit included, with a
;strategy DAT clear that spares only its own main code.
;assert CORESIZE == 8000

step    equ     2992            ; 16 * 187: fangs never land on our own cells

pit     spl.b   #0, #0          ; captured processes split here forever
        jmp     pit
start   add.f   inc, fang       ; keep fang.A + fang.B pointing at the pit
        mov.i   fang, @fang
        djn.b   start, #499
rearm   mov.ab  #CORESIZE-(bomb-start+1), bomb
clear   mov.i   bomb, @bomb
        djn.b   clear, bomb
        jmp     rearm
inc     dat.f   #-step, #step
fang    jmp.b   pit, #0         ; copied to fang+B, it jumps to the pit
bomb    dat.f   #0, #0
        end     start
