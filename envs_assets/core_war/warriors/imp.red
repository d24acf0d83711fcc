;redcode-94
;name Imp
;author selfplay-envs
;strategy Imp: one MOV that copies itself into the next cell, then executes the
;strategy copy. It crawls through the core forever: very hard to kill, and it
;strategy kills nothing, so it mostly ties.
;assert 1

imp     mov.i   $0, $1
        end     imp
