using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using TorchSharp;

namespace BulletNative.Model;

/// <summary>
/// Loads libtorch (through libLibTorchSharp.so) from this library's own folder before the first torch call.
/// Under NativeAOT TorchSharp's own search looks beside the host executable (Python), so it fails; a library
/// already loaded under the same soname is what its later lookups find.
/// Another libtorch in the same process (PyTorch imported into the Python that hosts this library) makes both
/// crash — their C++ runtimes share process-wide unique symbols whatever the load flags — so it is refused with a
/// message instead (measured: PyTorch 1.13 then this library's libtorch 2.10 segfaults; the reverse aborts).
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
            ThrowIfForeignLibtorch(folder);
            MklDispatch.Apply(folder);
            OpenMpWaitPolicy = PreferPassiveOpenMpWaiting();
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

    /// <summary>The OpenMP wait policy libtorch's threads use, unless the user set OMP_WAIT_POLICY.</summary>
    public const string DefaultWaitPolicy = "PASSIVE";

    /// <summary>
    /// OpenMP threads that spin while they wait take the core from whatever else runs: with a second session or any
    /// busy process on a 2-core machine, 2 spinning threads collapsed from 6,500 to 1,150 tokens/s.
    /// Sleeping waiters cost little when the machine is quiet (bench train_threads).
    /// libgomp reads the variable once, when it loads, so it must be in the C environment before libtorch. The Python
    /// binding sets the same default at import, on the main thread, so this rarely has to change the environment while
    /// other threads run. Child processes started later inherit it.
    /// </summary>
    private static string? PreferPassiveOpenMpWaiting()
    {
        if (MappedLibraries().Any(path => Path.GetFileName(path).StartsWith("libgomp", StringComparison.Ordinal)))
            return null; // already loaded by someone else: whatever it read then is unknown to us
        NativeEnvironment.SetDefault("OMP_WAIT_POLICY", DefaultWaitPolicy);
        return NativeEnvironment.Get("OMP_WAIT_POLICY");
    }

    /// <summary>The OpenMP wait policy libtorch's threads started with, or null when unknown (set by <see cref="EnsureLoaded"/>).</summary>
    public static string? OpenMpWaitPolicy { get; private set; }

    /// <summary>Sets libtorch's intra-op thread count for the calling thread only (so each session keeps its own).</summary>
    public static void SetThreadsForThisThread(int count)
    {
        EnsureLoaded();
        // libtorch (OpenMP build) keeps the count per thread, but a thread's first torch call copies in the last
        // count set by any thread; ask first, so that first call happens before ours and cannot undo it.
        _ = torch.get_num_threads();
        torch.set_num_threads(count);
    }

    /// <summary>True once this library has loaded its libtorch into the process.</summary>
    public static bool IsLoaded
    {
        get { lock (s_lock) return s_folder != null; }
    }

    /// <summary>
    /// Throws a clear error when another libtorch (e.g. PyTorch's) is already mapped into this process; once ours is
    /// loaded there is nothing left to check (and TorchSharp may have mapped its own copies from elsewhere).
    /// </summary>
    public static void ThrowIfForeignLibtorch()
    {
        if (!IsLoaded) ThrowIfForeignLibtorch(OwnFolder());
    }

    private static void ThrowIfForeignLibtorch(string ownFolder)
    {
        var foreign = ForeignLibtorch(ownFolder);
        if (foreign != null)
            throw new BulletException(NativeStatus.InvalidArgument,
                $"another libtorch is already loaded in this process ({foreign}, e.g. by `import torch`); the trainer's libtorch " +
                "cannot share a process with it (both would crash). Train with TrainingSession in a process that does not import torch, " +
                "or continue in PyTorch with bullet_native.torch.");
    }

    /// <summary>The path of a libtorch_cpu or libc10 mapped from outside <paramref name="ownFolder"/>, or null (also where /proc is absent).</summary>
    private static string? ForeignLibtorch(string ownFolder) =>
        MappedLibraries().FirstOrDefault(path =>
            (Path.GetFileName(path).StartsWith("libtorch_cpu.so", StringComparison.Ordinal) ||
             Path.GetFileName(path).StartsWith("libc10.so", StringComparison.Ordinal)) &&
            Path.GetDirectoryName(path) != ownFolder);

    /// <summary>The paths of the files mapped into this process (none where /proc is absent).</summary>
    private static IEnumerable<string> MappedLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) yield break;
        foreach (var line in File.ReadLines(maps))
        {
            var slash = line.IndexOf('/');
            if (slash >= 0) yield return line[slash..];
        }
    }

    /// <summary>This library's folder, with symlinks resolved (the Python package may load it through one).</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000",
        Justification = "Assembly.Location is empty under NativeAOT; the dladdr path below handles that case.")]
    internal static string OwnFolder()
    {
        // Under the JIT (tests, benchmarks) the managed assembly sits beside the natives.
        var assemblyPath = typeof(TorchNatives).Assembly.Location;
        if (!string.IsNullOrEmpty(assemblyPath)) return Path.GetDirectoryName(RealPath(assemblyPath))!;

        // Under NativeAOT any compiled function's address lies inside libbullet_native.so.
        delegate* unmanaged<void> anchor = &AddressAnchor;
        var library = LibraryContaining((nint)anchor)
            ?? throw new BulletException(NativeStatus.InternalError, "dladdr could not locate libbullet_native.so");
        return Path.GetDirectoryName(RealPath(library))!;
    }

    [UnmanagedCallersOnly]
    private static void AddressAnchor() { }

    /// <summary>The path of the loaded shared library holding <paramref name="address"/>, or null.</summary>
    internal static string? LibraryContaining(nint address) =>
        address != 0 && dladdr(address, out var info) != 0 && info.FileName != 0 ? Marshal.PtrToStringUTF8(info.FileName) : null;

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
        /// <summary>dli_fname: path of the shared object holding the address (C string).</summary>
        public nint FileName;
        /// <summary>dli_fbase: the address that object is loaded at.</summary>
        public nint FileBase;
        /// <summary>dli_sname: the nearest symbol's name (C string), or 0.</summary>
        public nint SymbolName;
        /// <summary>dli_saddr: that symbol's address, or 0.</summary>
        public nint SymbolAddress;
    }

    [DllImport("libc.so.6")]
    private static extern int dladdr(nint address, out DlInfo info);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi)]
    private static extern nint realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, nint resolved);
}
