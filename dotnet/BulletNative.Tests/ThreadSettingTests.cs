using BulletNative.Model;
using TorchSharp;

namespace BulletNative.Tests;

/// <summary>Each training session's thread count is its own: libtorch's OpenMP and MKL thread settings are per thread.</summary>
public class ThreadSettingTests
{
    [Test]
    public void A_thread_count_set_on_one_thread_does_not_change_another_threads()
    {
        using var bothSet = new Barrier(2);
        var seen = new int[2];
        var threads = new[] { 1, 2 }.Select((count, i) => new Thread(() =>
        {
            TorchNatives.SetThreadsForThisThread(count);
            bothSet.SignalAndWait();
            seen[i] = torch.get_num_threads();
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.That(seen, Is.EqualTo(new[] { 1, 2 }));
    }
}
