using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Interop;

/// <summary>Training sessions over the C ABI: create, control, pull events, checkpoint, export. Free with bullet_free_handle.</summary>
internal static unsafe class TrainingExports
{
    /// <summary>Creates a session from a config (JSON; {"preset": ...} allowed) and options (text or text_path, tokenizer_path, output_dir, resume_from).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_create")]
    public static int Create(byte* configJson, byte* optionsJson, long* outHandle) => NativeCall.Run(() =>
    {
        NativeCall.ReturnHandle(TrainingSessionFactory.Create(NativeCall.JsonArgument(configJson, "config"),
            NativeCall.JsonArgument(optionsJson, "options")), outHandle);
    });

    /// <summary>Starts continuous training.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_start")]
    public static int Start(long handle) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).Start());

    /// <summary>Pauses after the current step.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_pause")]
    public static int Pause(long handle) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).Pause());

    /// <summary>Resumes after a pause.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_resume")]
    public static int Resume(long handle) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).Resume());

    /// <summary>Stops gracefully after the current step.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_stop")]
    public static int Stop(long handle) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).Stop());

    /// <summary>Runs N more steps in the background, then waits.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_step")]
    public static int Step(long handle, long steps) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).StepN(steps));

    /// <summary>Limits the speed in steps per second (0 = full speed).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_speed")]
    public static int Speed(long handle, double stepsPerSecond) =>
        NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).SetSpeed(stepsPerSecond));

    /// <summary>Sets the session's libtorch thread count from its next step on.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_threads")]
    public static int Threads(long handle, int threads) => NativeCall.Run(() => HandleTable.Get<TrainingSession>(handle).SetThreads(threads));

    /// <summary>Attention of every layer and head on a probe text (null: the configured probe) with the current weights, as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_attention")]
    public static int Attention(long handle, byte* probe, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(HandleTable.Get<TrainingSession>(handle).Attention(NativeCall.OptionalUtf8(probe)), outData, outLength));

    /// <summary>Every session state in order, with whether it is final and who sets it, as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_states")]
    public static int States(byte** outData, long* outLength) => NativeCall.Run(() => NativeCall.ReturnJson(SessionStates.Describe(), outData, outLength));

    /// <summary>One optimizer step, synchronously; returns its metrics as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_train_step")]
    public static int TrainStep(long handle, byte** outData, long* outLength) => TrainStepCall(handle, outData, outLength);

    internal static int TrainStepCall(long handle, byte** outData, long* outLength) =>
        NativeCall.Run(() => NativeCall.ReturnJson(HandleTable.Get<TrainingSession>(handle).TrainStep(), outData, outLength));

    /// <summary>Events with seq greater than since_seq as a JSON array, waiting up to wait_ms for the first.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_poll_events")]
    public static int PollEvents(long handle, long sinceSeq, int waitMs, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        if (waitMs is < 0 or > 60_000) throw new BulletArgumentException($"wait_ms {waitMs} must be between 0 and 60000");
        NativeCall.ReturnJson(HandleTable.Get<TrainingSession>(handle).Events.Since(sinceSeq, waitMs), outData, outLength);
    });

    /// <summary>The session's state, step, last metrics and config as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_status")]
    public static int Status(long handle, byte** outData, long* outLength) =>
        NativeCall.Run(() => NativeCall.ReturnJson(HandleTable.Get<TrainingSession>(handle).Status(), outData, outLength));

    /// <summary>Saves a checkpoint (to path, or the output folder when null); returns {"path": ...}.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_checkpoint")]
    public static int SaveCheckpoint(long handle, byte* path, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var saved = HandleTable.Get<TrainingSession>(handle).SaveCheckpoint(NativeCall.OptionalUtf8(path));
        NativeCall.ReturnJson(new JsonObject { ["path"] = saved }, outData, outLength);
    });

    /// <summary>Writes and verifies the .bullet (options: path, model_name, model_card, float_dir, verify_windows); returns the verification.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_session_export")]
    public static int Export(long handle, byte* optionsJson, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(HandleTable.Get<TrainingSession>(handle).Export(NativeCall.JsonArgument(optionsJson, "options")), outData, outLength));

    /// <summary>Every training preset's full config, by name.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_train_presets")]
    public static int Presets(byte** outData, long* outLength) =>
        NativeCall.Run(() => NativeCall.ReturnJson(TrainingSessionFactory.Presets(), outData, outLength));

    /// <summary>
    /// Whether the trainer's libtorch is loaded in this process ({"loaded": bool}): PyTorch must not be imported then
    /// (the two libtorch builds crash together), which bullet_native.torch checks before it imports torch.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_libtorch_loaded")]
    public static int LibtorchLoaded(byte** outData, long* outLength) =>
        NativeCall.Run(() => NativeCall.ReturnJson(new JsonObject { ["loaded"] = Model.TorchNatives.IsLoaded }, outData, outLength));
}
