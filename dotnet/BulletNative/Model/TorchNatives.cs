using System.Runtime.InteropServices;
using BulletNative.Interop;

namespace BulletNative.Model;

/// <summary>
/// Loads libtorch (through libLibTorchSharp.so) from this library's own folder before the first torch call.
/// Under NativeAOT TorchSharp's own search looks beside the host executable (Python), so it fails; a library
/// already loaded under the same soname is what its later lookups find.
/// </summary>
public static unsafe class TorchNatives
{
    private static readonly Lock s_lock = new();
    private static string? s_folder;

    /// <summary>The folder holding libLibTorchSharp.so and libtorch; loads them once per process.</summary>
    public static string EnsureLoaded()
    {
        lock (s_lock)
        {
            if (s_folder != null) return s_folder;
            var folder = OwnFolder();
            MklIntelPathForced = LoadMklIntelShim(folder);
            var path = Path.Combine(folder, "libLibTorchSharp.so");
            if (!File.Exists(path))
                throw new BulletException(NativeStatus.IoError,
                    $"the libtorch natives are missing: {path} does not exist (publish the library with ./build.sh)");
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new BulletException(NativeStatus.IoError, $"cannot load {path}: {e.Message}", e);
            }
            s_folder = folder;
            return folder;
        }
    }

    /// <summary>True when libtorch's MKL was told it runs on an Intel CPU (see native/mkl_intel_cpu.c); set by <see cref="EnsureLoaded"/>.</summary>
    public static bool MklIntelPathForced { get; private set; }

    /// <summary>The environment variable that switches the MKL fix off ("0") on AMD processors.</summary>
    public const string MklSwitch = "BULLET_MKL_FORCE_INTEL";

    /// <summary>
    /// Whether to load the MKL shim: only on AMD processors (MKL already takes its fast path on Intel, and other
    /// vendors are untested), and not when <see cref="MklSwitch"/> is "0".
    /// </summary>
    public static bool ShouldForceMklIntelPath(string cpuVendor, string? switchValue) =>
        cpuVendor == "AuthenticAMD" && switchValue?.Trim() != "0";

    /// <summary>The CPU vendor string from CPUID leaf 0 ("GenuineIntel", "AuthenticAMD"), or "" off x86.</summary>
    public static string CpuVendor()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return "";
        var (_, ebx, ecx, edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
        Span<int> words = [ebx, edx, ecx];
        return System.Text.Encoding.ASCII.GetString(MemoryMarshal.AsBytes(words));
    }

    private static bool LoadMklIntelShim(string folder)
    {
        if (!ShouldForceMklIntelPath(CpuVendor(), Environment.GetEnvironmentVariable(MklSwitch))) return false;
        var shim = Path.Combine(folder, "libbullet_mkl_intel.so");
        // RTLD_GLOBAL, before libtorch: its PLT calls to mkl_serv_intel_cpu then bind to the shim. A missing shim
        // only costs speed, so it is not an error.
        return File.Exists(shim) && dlopen(shim, RtldNow | RtldGlobal) != 0;
    }

    private const int RtldNow = 0x2, RtldGlobal = 0x100;

    /// <summary>This library's folder, with symlinks resolved (the Python package may load it through one).</summary>
    private static string OwnFolder()
    {
        // Under the JIT (tests, benchmarks) the managed assembly sits beside the natives.
        var assemblyPath = typeof(TorchNatives).Assembly.Location;
        if (!string.IsNullOrEmpty(assemblyPath)) return Path.GetDirectoryName(RealPath(assemblyPath))!;

        // Under NativeAOT the exported function's address lies inside libbullet_native.so.
        delegate* unmanaged<byte*> export = &CoreExports.Version;
        if (dladdr((nint)export, out var info) == 0 || info.FileName == 0)
            throw new BulletException(NativeStatus.InternalError, "dladdr could not locate libbullet_native.so");
        return Path.GetDirectoryName(RealPath(Marshal.PtrToStringUTF8(info.FileName)!))!;
    }

    private static string RealPath(string path)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0) return Path.GetFullPath(path);
        try { return Marshal.PtrToStringUTF8(resolved)!; }
        finally { NativeMemory.Free((void*)resolved); }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint FileBase;
        public nint SymbolName;
        public nint SymbolAddress;
    }

    [DllImport("libc.so.6")]
    private static extern int dladdr(nint address, out DlInfo info);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi)]
    private static extern nint dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi)]
    private static extern nint realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, nint resolved);
}
