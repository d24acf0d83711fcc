;redcode-94
;name Double Sweep
;author selfplay-envs
;strategy Core clear. The first pass covers the whole core, its own cells excepted,
;strategy with SPL 0: every enemy process that runs into one splits in place and
;strategy stalls. The second pass covers it again with DAT, killing the stalled
;strategy processes, and then it starts over. Slow but thorough: it beats
;strategy anything that stays still.
;assert CORESIZE == 8000

span    equ     CORESIZE-(ptr-first+1)

first   mov.ab  #span, ptr
spl1    mov.i   stun, @ptr      ; pass 1: SPL 0 into ptr+N .. ptr+1
        djn.b   spl1, ptr
        mov.ab  #span, ptr
dat1    mov.i   kill, @ptr      ; pass 2: DAT into the same cells
        djn.b   dat1, ptr
        jmp     first
stun    spl.b   #0, #0
kill    dat.f   #0, #0
ptr     dat.f   #0, #0
        end     first
