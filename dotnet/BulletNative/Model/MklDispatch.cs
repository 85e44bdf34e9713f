using System.Runtime.InteropServices;

namespace BulletNative.Model;

/// <summary>
/// libtorch's bundled MKL takes slow generic kernels on AMD processors; native/mkl_intel_cpu.c (built beside the
/// library as libbullet_mkl_intel.so) tells it otherwise. Measured here (./build.sh bench train_threads, 2 threads):
/// 1.88x training tokens/s quiet, 1.57x beside a busy process. On by default on AMD, off with BULLET_MKL_FORCE_INTEL=0.
/// The shim sits in the global symbol scope, so any other MKL in the process (an MKL-built numpy) takes the same path.
/// </summary>
public static class MklDispatch
{
    /// <summary>True when libtorch's MKL was told it runs on an Intel CPU (see native/mkl_intel_cpu.c); set by <see cref="Apply"/>.</summary>
    public static bool Forced { get; private set; }

    /// <summary>The environment variable that switches the MKL fix off ("0") on AMD processors.</summary>
    public const string Switch = "BULLET_MKL_FORCE_INTEL";

    /// <summary>
    /// Whether to load the MKL shim: only on AMD processors (MKL already takes its fast path on Intel, and other
    /// vendors are untested), and not when <see cref="Switch"/> is "0".
    /// </summary>
    public static bool ShouldForce(string cpuVendor, string? switchValue) =>
        cpuVendor == "AuthenticAMD" && switchValue?.Trim() != "0";

    /// <summary>The CPU vendor string from CPUID leaf 0 ("GenuineIntel", "AuthenticAMD"), or "" off x86.</summary>
    public static string CpuVendor()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return "";
        var (_, ebx, ecx, edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
        Span<int> words = [ebx, edx, ecx];
        return System.Text.Encoding.ASCII.GetString(MemoryMarshal.AsBytes(words));
    }

    /// <summary>Loads the shim from <paramref name="folder"/> when <see cref="ShouldForce"/> says so; call before libtorch loads.</summary>
    public static void Apply(string folder) => Forced = LoadShim(folder);

    private static bool LoadShim(string folder)
    {
        if (!ShouldForce(CpuVendor(), NativeEnvironment.Get(Switch))) return false;
        var shim = Path.Combine(folder, "libbullet_mkl_intel.so");
        // RTLD_GLOBAL, before libtorch: its PLT calls to mkl_serv_intel_cpu then bind to the shim. A missing shim
        // only costs speed, so it is not an error.
        return File.Exists(shim) && dlopen(shim, RtldNow | RtldGlobal) != 0;
    }

    private const int RtldNow = 0x2, RtldGlobal = 0x100;

    [DllImport("libc.so.6", CharSet = CharSet.Ansi)]
    private static extern nint dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
}
