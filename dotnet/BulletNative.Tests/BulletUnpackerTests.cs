using System.Text.Json.Nodes;
using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Tests;

public class BulletUnpackerTests
{
    /// <summary>A builder input folder: config.json, tokenizer.json (default scores, so it round-trips) and model.safetensors.</summary>
    private static string SourceFolder(int seed = 3, bool tied = false)
    {
        var folder = TestPaths.NewScratch();
        var dims = new ModelDimensions(64, 2, 4, 40, 32);
        var vocabulary = TestModels.Vocabulary(40);
        var tokenizer = BulletTokenizer.FromParts(vocabulary.Tokens, BulletTokenizer.DefaultScores(vocabulary.Tokens, vocabulary.Merges), vocabulary.Merges);
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.json"), TokenizerJson.Write(tokenizer));
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["hidden_size"] = dims.HiddenSize, ["num_layers"] = dims.NumLayers, ["num_heads"] = dims.NumHeads,
            ["vocab_size"] = dims.VocabSize, ["max_context"] = dims.MaxContext, ["model_name"] = "unpack-test",
        }.ToJsonString());
        var tensors = TestModels.RandomTensors(dims, seed);
        if (tied)
        {
            var embedding = tensors.First(t => t.Name == TensorNames.Embedding);
            tensors = tensors.Select(t => t.Name == TensorNames.OutputHead ? embedding with { Name = TensorNames.OutputHead } : t).ToList();
        }
        Safetensors.WriteFile(Path.Combine(folder, "model.safetensors"), tensors);
        return folder;
    }

    [Test]
    public void Unpacked_folder_holds_the_files_dequantized_blocks_and_rebuilds_the_same_model()
    {
        var source = SourceFolder();
        var first = Path.Combine(source, "first.bullet");
        BuildRequest.Run(source, first, []);
        var unpacked = Path.Combine(TestPaths.NewScratch(), "unpacked");

        var report = BulletUnpacker.Unpack(first, unpacked);

        Assert.That(Directory.GetFiles(unpacked).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { BulletUnpacker.MarkerFile, "config.json", "model.safetensors", "tokenizer.json" }));
        Assert.That(report["tied_head"]!.GetValue<bool>(), Is.False);
        var file = BulletReader.ReadFile(first);
        var (tensors, _) = Safetensors.ReadFile(Path.Combine(unpacked, "model.safetensors"));
        Assert.That(tensors.Select(t => t.Name), Is.EqualTo(file.Dimensions.RequiredTensors().Select(t => t.Name)));
        foreach (var t in tensors)
        {
            var blocks = file.TensorData(t.Name).Span;
            var expected = new float[t.Values.Length];
            Bq4.DequantizeReference(blocks, expected);
            Assert.That(t.Values.ToArray(), Is.EqualTo(expected), $"{t.Name} holds exactly the decoded blocks");
            Assert.That(t.Shape, Is.EqualTo(file.Tensor(t.Name).Dims));
        }

        var second = Path.Combine(source, "second.bullet");
        BuildRequest.Run(unpacked, second, []);
        var rebuilt = BulletReader.ReadFile(second);
        Assert.That(rebuilt.Header.ModelName, Is.EqualTo("unpack-test"));
        Assert.That(rebuilt.Dimensions, Is.EqualTo(file.Dimensions));
        Assert.That(rebuilt.Vocabulary.ToBlock(), Is.EqualTo(file.Vocabulary.ToBlock()), "the tokenizer block survives byte for byte");
        // Re-packing is not exactly idempotent (measured, reported here): the encoder's scale search does not always
        // meet the exact grid of an already-quantized block, and equal-error windows may shift nibbles and zero point.
        int identicalBytes = 0, identicalValues = 0;
        foreach (var t in tensors)
        {
            var before = file.Dequantize(t.Name);
            var after = rebuilt.Dequantize(t.Name);
            double error = 0, reference = 0;
            for (var i = 0; i < before.Length; i++)
            {
                error += ((double)after[i] - before[i]) * ((double)after[i] - before[i]);
                reference += (double)before[i] * before[i];
            }
            Assert.That(Math.Sqrt(error / reference), Is.LessThan(0.01), $"{t.Name}: a re-pack costs far less than one quantization (~7.7 %)");
            if (after.AsSpan().SequenceEqual(before)) identicalValues++;
            if (rebuilt.TensorData(t.Name).Span.SequenceEqual(file.TensorData(t.Name).Span)) identicalBytes++;
        }
        TestContext.Out.WriteLine($"BQ4 re-pack: {identicalValues} of {tensors.Count} tensors decode to identical values, {identicalBytes} have identical bytes");
        Assert.That(identicalValues, Is.GreaterThan(tensors.Count / 2), "most blocks are found again exactly");
    }

    [Test]
    public void A_tied_head_is_reported_so_a_trainer_can_tie_it_again()
    {
        var source = SourceFolder(tied: true);
        var path = Path.Combine(source, "tied.bullet");
        BuildRequest.Run(source, path, []);
        var unpacked = Path.Combine(TestPaths.NewScratch(), "out");
        var report = BulletUnpacker.Unpack(path, unpacked);
        Assert.That(report["tied_head"]!.GetValue<bool>(), Is.True);
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(unpacked, "config.json")))!["tied_head"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void Reference_file_unpacks_to_vocab_sized_tables_that_build_again()
    {
        var unpacked = Path.Combine(TestPaths.NewScratch(), "ref");
        var report = BulletUnpacker.Unpack(TestPaths.Fixture("reference-597vocab.bullet"), unpacked);
        var (tensors, _) = Safetensors.ReadFile(Path.Combine(unpacked, "model.safetensors"));
        Assert.That(tensors.First(t => t.Name == TensorNames.Embedding).Shape, Is.EqualTo(new[] { 597, 128 }), "rows past vocab_size are dropped");
        Assert.That(report["warnings"]!.AsArray().Select(w => w!.GetValue<string>()), Has.Some.Contains("2000 rows"));

        var rebuilt = Path.Combine(unpacked, "..", "rebuilt.bullet");
        BuildRequest.Run(unpacked, rebuilt, []);
        var original = BulletReader.ReadFile(TestPaths.Fixture("reference-597vocab.bullet"));
        var file = BulletReader.ReadFile(rebuilt);
        Assert.That(file.Vocabulary.Tokens, Is.EqualTo(original.Vocabulary.Tokens));
        Assert.That(file.Dequantize(TensorNames.FfnDown(3)), Is.EqualTo(original.Dequantize(TensorNames.FfnDown(3))));
    }

    [Test]
    public void Unpacking_replaces_an_earlier_unpack_but_never_a_folder_with_other_files()
    {
        var source = SourceFolder();
        var path = Path.Combine(source, "model.bullet");
        BuildRequest.Run(source, path, []);
        var target = Path.Combine(TestPaths.NewScratch(), "out");
        BulletUnpacker.Unpack(path, target);
        BulletUnpacker.Unpack(path, target + "/"); // a trailing separator names the same folder
        Assert.That(Directory.GetFiles(target).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { BulletUnpacker.MarkerFile, "config.json", "model.safetensors", "tokenizer.json" }));

        File.WriteAllText(Path.Combine(target, "notes.txt"), "mine");
        var error = Assert.Throws<BulletArgumentException>(() => BulletUnpacker.Unpack(path, target))!;
        Assert.That(error.Message, Does.Contain("\"notes.txt\""));
        Assert.That(File.ReadAllText(Path.Combine(target, "notes.txt")), Is.EqualTo("mine"));
        Assert.That(Directory.GetDirectories(Path.GetDirectoryName(target)!), Has.Length.EqualTo(1), "no temporary folder is left behind");
    }

    [Test]
    public void Unpacking_never_replaces_a_builder_input_folder_though_it_holds_the_same_files()
    {
        var source = SourceFolder();
        var path = Path.Combine(TestPaths.NewScratch(), "model.bullet");
        BuildRequest.Run(source, path, []);
        var weights = File.ReadAllBytes(Path.Combine(source, "model.safetensors"));

        var error = Assert.Throws<BulletArgumentException>(() => BulletUnpacker.Unpack(path, source))!;
        Assert.That(error.Message, Does.Contain("was not written by an unpack"));
        Assert.That(File.ReadAllBytes(Path.Combine(source, "model.safetensors")), Is.EqualTo(weights), "the float weights are untouched");
    }
}
