using BulletNative.Model;
using TorchSharp;

namespace BulletNative.Tests;

/// <summary>libtorch's threads: each session's count is its own, and idle OpenMP threads sleep rather than spin.</summary>
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

    [Test]
    public void OpenMP_waits_passively_unless_the_user_chose_a_policy()
    {
        var before = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"); // the process's starting environment
        TorchNatives.EnsureLoaded();
        Assert.That(TorchNatives.OpenMpWaitPolicy, Is.EqualTo(before ?? TorchNatives.DefaultWaitPolicy));
    }
}
