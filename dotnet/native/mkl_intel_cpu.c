/*
 * libbullet_mkl_intel.so: answers "yes" when the MKL inside libtorch asks whether it runs on an Intel CPU.
 *
 * MKL picks its AVX2/AVX-512 kernels only on Intel processors and falls back to slower generic code elsewhere;
 * on AMD Zen 4 a 512x768x128 matmul took 850 us instead of 365 us. libtorch_cpu.so
 * calls these two functions through its PLT, so a library loaded RTLD_GLOBAL before it interposes them.
 * TorchNatives loads this only on AMD CPUs and only unless BULLET_MKL_FORCE_INTEL=0. Both paths are deterministic,
 * but their kernels round differently, so loss curves agree only to float noise across the switch.
 * bench: ./build.sh bench train_threads (2 threads on a 2-core AMD EPYC: 1.88x tokens/s quiet, 1.57x beside a busy process).
 */
int mkl_serv_intel_cpu(void) { return 1; }

int mkl_serv_intel_cpu_true(void) { return 1; }
