/* rv32 start-up: stack pointer and global pointer, copy .data from the ROM
 * image, zero .bss, paint the stack so its high-water mark can be measured,
 * then main. The stack sits at the very bottom of RAM (soc.ld): an overflow
 * runs below RAM into unmapped space, and the SoC answers any access to
 * unmapped space with a reset of the whole domain (hdl/soc/heg_soc_bus.v),
 * so it cannot silently overwrite .data or .bss. */
  .section .text.start, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack_top
  /* .data: ROM image -> RAM */
  la t0, __data_load
  la t1, __data_start
  la t2, __data_end
1:
  bgeu t1, t2, 2f
  lw t3, 0(t0)
  sw t3, 0(t1)
  addi t0, t0, 4
  addi t1, t1, 4
  j 1b
2:
  /* .bss: zero */
  la t1, __bss_start
  la t2, __bss_end
3:
  bgeu t1, t2, 4f
  sw zero, 0(t1)
  addi t1, t1, 4
  j 3b
4:
  /* the whole stack: paint (nothing lives on it yet) */
  la t1, __stack_bottom
  la t2, __stack_top
  li t3, 0xdeadbeef
5:
  bgeu t1, t2, 6f
  sw t3, 0(t1)
  addi t1, t1, 4
  j 5b
6:
  call main
  j heg_rv32_fault

  .section .text.heg_rv32_fault, "ax"
  .globl heg_rv32_fault
/* ebreak traps the PicoRV32; the SoC resets the domain on a trap. */
heg_rv32_fault:
  ebreak
  j heg_rv32_fault

  .section .text.heg_rv32_stack_used, "ax"
  .globl heg_rv32_stack_used
/* uint32_t heg_rv32_stack_used(void): top minus the lowest unpainted word. */
heg_rv32_stack_used:
  la t0, __stack_bottom
  la t1, __stack_top
  li t2, 0xdeadbeef
7:
  bgeu t0, t1, 8f
  lw t3, 0(t0)
  bne t3, t2, 8f
  addi t0, t0, 4
  j 7b
8:
  sub a0, t1, t0
  ret
