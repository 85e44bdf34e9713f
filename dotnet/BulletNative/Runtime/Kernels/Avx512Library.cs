using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BulletNative.Model;

namespace BulletNative.Runtime.Kernels;

/// <summary>
/// The AVX-512 kernel from its own library, <c>libbullet_kernels_avx512</c> (dotnet/BulletKernels512: the same kernel
/// source compiled by NativeAOT for x86-64-v4), loaded beside this library when the processor and the OS support
/// AVX-512 F/BW/CD/DQ/VL.
/// </summary>
/// <remarks>
/// NativeAOT fixes the instruction set at compile time: this library targets x86-64-v3, where <c>Avx512BW.IsSupported</c>
/// is the constant false (only VEX-encoded sets such as AVX-VNNI are checked at run time). A library compiled for v4
/// aborts the whole process at its first call on a processor without AVX-512, so it is loaded only after this check.
/// </remarks>
public static unsafe class Avx512Library
{
    // Status first: static initializers run in order and Load() sets it.
    /// <summary>Why the library is or is not in use (for bullet_model_info).</summary>
    public static string Status { get; private set; } = "";

    private static readonly delegate* unmanaged<Q4Q8Call*, int> s_entry = Load();

    /// <summary>The library is loaded and its kernel can run here.</summary>
    public static bool Available => s_entry != null;

    /// <summary>Runs one call in the library (only when <see cref="Available"/>).</summary>
    public static void Run(Q4Q8Call* call)
    {
        if (s_entry(call) != 0) throw new BulletException(NativeStatus.InternalError, "the AVX-512 kernel library refused a call");
    }

    private static delegate* unmanaged<Q4Q8Call*, int> Load()
    {
        if (!ProcessorHasAvx512())
        {
            Status = "the processor (or the OS) does not support AVX-512 F/BW/CD/DQ/VL";
            return null;
        }
        var name = OperatingSystem.IsWindows() ? "libbullet_kernels_avx512.dll" : "libbullet_kernels_avx512.so";
        string path;
        try
        {
            path = Path.Combine(TorchNatives.OwnFolder(), name);
        }
        catch (Exception e)
        {
            // A failure here must not take the runtime down: the AVX2 kernel runs instead.
            Status = $"cannot locate this library's folder: {e.Message}";
            return null;
        }
        if (!File.Exists(path))
        {
            Status = $"{name} is not beside the library";
            return null;
        }
        try
        {
            var handle = NativeLibrary.Load(path);
            Status = $"loaded {path}";
            return (delegate* unmanaged<Q4Q8Call*, int>)NativeLibrary.GetExport(handle, "bullet_kernels_q4q8");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            Status = $"{path} did not load: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// CPUID says AVX-512 F, BW, CD, DQ and VL and the OS saves their registers. .NET cannot read XCR0 (no XGETBV), so
    /// on Linux the kernel's own view decides: it lists avx512* in /proc/cpuinfo only when it enabled their state.
    /// </summary>
    private static bool ProcessorHasAvx512()
    {
        if (!X86Base.IsSupported) return false;
        var (_, _, ecx1, _) = X86Base.CpuId(1, 0);
        if ((ecx1 & (1 << 27)) == 0) return false; // OSXSAVE
        var (_, ebx7, _, _) = X86Base.CpuId(7, 0);
        int[] bits = [16, 17, 28, 30, 31]; // F, DQ, CD, BW, VL
        if (bits.Any(bit => (ebx7 & (1 << bit)) == 0)) return false;
        if (!OperatingSystem.IsLinux()) return true;
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return false;
        var flags = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        string[] needed = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];
        return needed.All(flags.Contains);
    }
}
