using BulletNative.Model;

namespace BulletNative.Tests;

/// <summary>
/// Loads libtorch the way the product does, before any test touches TorchSharp: TorchSharp's static constructor
/// would otherwise load it first (under the JIT it can), without the MKL shim and the OpenMP setting.
/// </summary>
[SetUpFixture]
public class LibtorchSetup
{
    [OneTimeSetUp]
    public void LoadLibtorch() => TorchNatives.EnsureLoaded();
}
