using System.Runtime.InteropServices;

namespace BulletNative.Runtime.Kernels;

/// <summary>The library's one export, called by libbullet_native through a function pointer.</summary>
internal static unsafe class KernelExports
{
    /// <summary>Runs one product (see Q4Q8Call); 0 on success, 1 if anything threw (nothing crosses the boundary).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_kernels_q4q8")]
    public static int Q4Q8(Q4Q8Call* call)
    {
        try
        {
            Q4Q8Avx512.Run(call);
            return 0;
        }
        catch
        {
            return 1;
        }
    }
}
