//go:build amd64 && !purego

#include "textflag.h"

// SSE2 kernels of the mixer, on frames of 160 samples: 20 blocks of 8 int16
// (one XMM register) and the matching 8 int32 of a sum (two registers).
//
// Signed int16 to int32: PUNPCKLWL/PUNPCKHWL a register with itself puts each
// word in the high half of a dword, and PSRAL $16 shifts it back with its
// sign. Sum of squares: PMADDWL of a block with itself gives x0²+x1² per
// dword, at most 2^31, exact as an unsigned 32-bit value; PUNPCKLLQ/PUNPCKHLQ
// with zero widen the dwords to qwords for PADDQ. Saturation: PACKSSLW
// (PACKSSDW) packs dwords to words with signed saturation.

// func accumulate(sum *[160]int32, in *[160]int16) uint64
TEXT ·accumulate(SB), NOSPLIT, $0-24
	MOVQ sum+0(FP), DI
	MOVQ in+8(FP), SI
	PXOR X6, X6 // zero
	PXOR X7, X7 // sum of squares, two qwords
	MOVQ $20, CX

accLoop:
	MOVOU (SI), X0
	MOVOU X0, X1
	PMADDWL X0, X1
	MOVOU X1, X2
	PUNPCKLLQ X6, X1
	PUNPCKHLQ X6, X2
	PADDQ X1, X7
	PADDQ X2, X7
	MOVOU X0, X3
	PUNPCKLWL X0, X3
	PSRAL $16, X3
	MOVOU X0, X4
	PUNPCKHWL X0, X4
	PSRAL $16, X4
	MOVOU (DI), X1
	PADDL X3, X1
	MOVOU X1, (DI)
	MOVOU 16(DI), X2
	PADDL X4, X2
	MOVOU X2, 16(DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ accLoop

	MOVOU X7, X0
	PSRLO $8, X0
	PADDQ X0, X7
	MOVQ X7, AX
	MOVQ AX, ret+16(FP)
	RET

// func energy(in *[160]int16) uint64
TEXT ·energy(SB), NOSPLIT, $0-16
	MOVQ in+0(FP), SI
	PXOR X6, X6
	PXOR X7, X7
	MOVQ $20, CX

energyLoop:
	MOVOU (SI), X0
	PMADDWL X0, X0
	MOVOU X0, X2
	PUNPCKLLQ X6, X0
	PUNPCKHLQ X6, X2
	PADDQ X0, X7
	PADDQ X2, X7
	ADDQ $16, SI
	DECQ CX
	JNZ energyLoop

	MOVOU X7, X0
	PSRLO $8, X0
	PADDQ X0, X7
	MOVQ X7, AX
	MOVQ AX, ret+8(FP)
	RET

// func mixMinus(out *[160]int16, sum *[160]int32, own *[160]int16)
TEXT ·mixMinus(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ sum+8(FP), SI
	MOVQ own+16(FP), DX
	MOVQ $20, CX

minusLoop:
	MOVOU (DX), X0
	MOVOU X0, X3
	PUNPCKLWL X0, X3
	PSRAL $16, X3
	MOVOU X0, X4
	PUNPCKHWL X0, X4
	PSRAL $16, X4
	MOVOU (SI), X1
	PSUBL X3, X1
	MOVOU 16(SI), X2
	PSUBL X4, X2
	PACKSSLW X2, X1
	MOVOU X1, (DI)
	ADDQ $16, DX
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ minusLoop
	RET

// func saturate(out *[160]int16, sum *[160]int32)
TEXT ·saturate(SB), NOSPLIT, $0-16
	MOVQ out+0(FP), DI
	MOVQ sum+8(FP), SI
	MOVQ $20, CX

satLoop:
	MOVOU (SI), X1
	MOVOU 16(SI), X2
	PACKSSLW X2, X1
	MOVOU X1, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ satLoop
	RET
