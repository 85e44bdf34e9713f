using BulletNative.Model;

namespace BulletNative.Tests;

/// <summary>
/// Loads libtorch the way the product does, before any test touches TorchSharp: TorchSharp's static constructor
/// would otherwise load it first (under the JIT it can), without the MKL shim and the OpenMP setting. The speed
/// calibration cache goes to a scratch folder, so tests neither read nor change the user's.
/// </summary>
[SetUpFixture]
public class LibtorchSetup
{
    [OneTimeSetUp]
    public void LoadLibtorch()
    {
        Environment.SetEnvironmentVariable(BulletNative.Training.TrainSpeed.CacheDirVariable, TestPaths.NewScratch());
        TorchNatives.EnsureLoaded();
    }
}
