using System.Runtime.InteropServices;
using BulletNative.Runtime;

namespace BulletNative.Interop;

/// <summary>
/// C exports of continuous batching: a scheduler over a model runs many generations on its own thread; each submitted
/// request is read step by step like a generator. Free requests and schedulers with bullet_free_handle (freeing a
/// request that still runs cancels it; freeing a scheduler ends every request on it).
/// </summary>
internal static unsafe class BatchExports
{
    /// <summary>A scheduler with its own thread over a model (JSON options: threads, cache_mb, tokens_per_step, max_sequences).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_scheduler_create")]
    public static int Create(long model, byte* options, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(new BatchScheduler(HandleTable.Get<BulletModel>(model),
            SchedulerOptions.FromJson(NativeCall.JsonArgument(options, "options"))), outHandle));

    /// <summary>Queues a generation (generation options as for bullet_generator_create); it joins at the scheduler's next step.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_scheduler_submit")]
    public static int Submit(long scheduler, byte* prompt, byte* options, long* outHandle) => NativeCall.Run(() =>
    {
        var batch = HandleTable.Get<BatchScheduler>(scheduler);
        NativeCall.ReturnHandle(batch.Submit(batch.Model.Tokenizer.Encode(NativeCall.Utf8(prompt, "prompt")),
            GenerationOptions.FromJson(NativeCall.JsonArgument(options, "options"))), outHandle);
    });

    /// <summary>The request's next step within wait_ms: JSON as bullet_generator_next, or {waiting: true} when none came in time.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_request_next")]
    public static int Next(long request, int waitMs, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        if (waitMs < 0) throw new BulletArgumentException($"wait_ms {waitMs} must not be negative");
        NativeCall.ReturnJson(RuntimeReports.Step(HandleTable.Get<GenerationRequest>(request), TimeSpan.FromMilliseconds(waitMs)), outData, outLength);
    });

    /// <summary>The request's summary (as bullet_model_generate returns it), once its final step has been read.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_request_result")]
    public static int Result(long request, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var batched = HandleTable.Get<GenerationRequest>(request);
        if (!batched.Finished) throw new BulletArgumentException("the request is still running: read its steps to the final one first");
        NativeCall.ReturnJson(RuntimeReports.Summary(batched.Sequence), outData, outLength);
    });
}
