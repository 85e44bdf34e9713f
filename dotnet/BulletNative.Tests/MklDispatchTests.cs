using System.Runtime.InteropServices;
using BulletNative.Model;

namespace BulletNative.Tests;

/// <summary>The switchable MKL fast path on AMD processors.</summary>
public class MklDispatchTests
{
    [TestCase("AuthenticAMD", null, true)]
    [TestCase("AuthenticAMD", "1", true)]
    [TestCase("AuthenticAMD", " 0 ", false)]
    [TestCase("GenuineIntel", null, false)]
    [TestCase("", null, false)]
    public void MKL_fix_applies_only_to_AMD_and_can_be_switched_off(string vendor, string? switchValue, bool expected) =>
        Assert.That(MklDispatch.ShouldForce(vendor, switchValue), Is.EqualTo(expected));

    [Test]
    public void CPU_vendor_matches_proc_cpuinfo()
    {
        var line = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("vendor_id"));
        Assert.That(MklDispatch.CpuVendor(), Is.EqualTo(line.Split(':')[1].Trim()));
    }

    [Test]
    public void The_shim_is_first_in_the_global_scope_exactly_when_the_fix_is_on()
    {
        TorchNatives.EnsureLoaded();
        var expected = MklDispatch.ShouldForce(MklDispatch.CpuVendor(),
            Environment.GetEnvironmentVariable(MklDispatch.Switch));
        Assert.That(MklDispatch.Forced, Is.EqualTo(expected));

        // The first definition in the global scope is the one libtorch's PLT binds to (libtorch itself is loaded
        // RTLD_LOCAL, so without the shim the global scope may have none).
        var symbol = dlsym(0, "mkl_serv_intel_cpu");
        var library = Path.GetFileName(TorchNatives.LibraryContaining(symbol));
        Assert.That(library, expected ? Is.EqualTo("libbullet_mkl_intel.so") : Is.Not.EqualTo("libbullet_mkl_intel.so"));
    }

    [DllImport("libc.so.6")]
    private static extern nint dlsym(nint handle, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
