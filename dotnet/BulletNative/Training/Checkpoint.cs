using System.Text.Json.Nodes;
using BulletNative.Format;
using static TorchSharp.torch;

namespace BulletNative.Training;

/// <summary>
/// A resumable checkpoint is a folder: model.safetensors (the tensor names of docs/format.md, a tied head stored under both),
/// optimizer.safetensors (AdamW moments "adam_m./adam_v.{name}", EMA "ema.{name}"), state.json (step,
/// random states, early-stopping counters, config) and tokenizer.json when the product tokenizer made the data. It appears complete or not at all: written into a
/// temporary folder, then renamed.
/// </summary>
public static class Checkpoint
{
    /// <summary>File names inside a checkpoint folder.</summary>
    public const string WeightsFile = "model.safetensors", OptimizerFile = "optimizer.safetensors", StateFile = "state.json",
        TokenizerFile = "tokenizer.json";

    /// <summary>Writes a checkpoint folder at <paramref name="folder"/>, replacing an older one there.</summary>
    public static void Save(string folder, IEnumerable<(string Name, Tensor Value)> weights,
        IEnumerable<(string Name, Tensor Value)> optimizer, JsonObject state, Action<string>? addFiles = null) =>
        AtomicFolder.Write(folder, temp =>
        {
            File.WriteAllBytes(Path.Combine(temp, WeightsFile), Safetensors.ToBytes(weights.Select(w => ToTensorData(w.Name, w.Value))));
            File.WriteAllBytes(Path.Combine(temp, OptimizerFile), Safetensors.ToBytes(optimizer.Select(w => ToTensorData(w.Name, w.Value))));
            File.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            addFiles?.Invoke(temp);
        });

    /// <summary>Reads a checkpoint folder written by <see cref="Save"/>.</summary>
    public static (Dictionary<string, float[]> Weights, Dictionary<string, float[]> Optimizer, JsonObject State) Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new BulletException(NativeStatus.IoError, $"checkpoint folder {folder} does not exist");
        foreach (var file in new[] { WeightsFile, OptimizerFile, StateFile })
            if (!File.Exists(Path.Combine(folder, file)))
                throw new BulletFormatException($"{folder} is not a checkpoint: {file} is missing");
        var weights = ReadValues(Path.Combine(folder, WeightsFile));
        var optimizer = ReadValues(Path.Combine(folder, OptimizerFile));
        var state = JsonFields.OfFile($"{folder}/{StateFile}").ReadObject(Path.Combine(folder, StateFile));
        return (weights, optimizer, state);
    }

    /// <summary>Copies a saved tensor's values into <paramref name="target"/>, checking its size.</summary>
    public static void CopyInto(Tensor target, IReadOnlyDictionary<string, float[]> tensors, string name)
    {
        if (!tensors.TryGetValue(name, out var values)) throw new BulletFormatException($"the checkpoint has no tensor {name}");
        if (values.Length != target.numel())
            throw new BulletFormatException($"checkpoint tensor {name} has {values.Length} values, the model needs {target.numel()}");
        using var source = tensor(values, target.shape);
        target.detach().copy_(source);
    }

    /// <summary>A tensor's values and shape under a name, copied out of libtorch.</summary>
    public static TensorData ToTensorData(string name, Tensor value) =>
        new(name, value.shape.Select(d => (int)d).ToArray(), value.detach().contiguous().data<float>().ToArray());

    private static Dictionary<string, float[]> ReadValues(string path) =>
        Safetensors.ReadFile(path).Tensors.ToDictionary(t => t.Name, t => t.Values.ToArray());
}
