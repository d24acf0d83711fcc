;redcode-94
;name Imp Gate
;author selfplay-envs
;strategy Gate: one JMP that loops on itself and decrements the B-field of a cell
;strategy two below it on every cycle. An imp that steps onto the gate turns into
;strategy MOV 0, 0, moves on into the empty cell above and dies. Pure defence: it
;strategy beats imps and ties or loses against everything else.

gate    dat.f   #0, #0          ; the cell imps must cross to reach us
pad     dat.f   #0, #0          ; a dead cell: where a gated imp steps and dies
start   jmp.b   $0, <gate
        end     start
