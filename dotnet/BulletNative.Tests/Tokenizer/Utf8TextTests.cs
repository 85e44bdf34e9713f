using System.Text;
using BulletNative.Tokenizer;

namespace BulletNative.Tests.Tokenizer;

public class Utf8TextTests
{
    [Test]
    public void BomIsSkippedAndCrlfKept()
    {
        var input = Utf8Text.Prepare([0xEF, 0xBB, 0xBF, .. "a\r\nb"u8], InvalidUtf8Handling.Error, "text");
        Assert.That(input.Bytes, Is.EqualTo("a\r\nb"u8.ToArray()));
        Assert.That(input.BomSkipped, Is.True);
        Assert.That(Utf8Text.Prepare("a\r\nb"u8, InvalidUtf8Handling.Error, "text").BomSkipped, Is.False);
    }

    [TestCase(new byte[] { 0x61, 0xFF }, 1)]
    [TestCase(new byte[] { 0x61, 0x62, 0xE4, 0xB8 }, 2)]                 // a character cut short at the end
    [TestCase(new byte[] { 0xC0, 0xAF }, 0)]                             // overlong encoding of "/"
    [TestCase(new byte[] { 0x61, 0xED, 0xA0, 0x80 }, 1)]                 // an encoded surrogate
    [TestCase(new byte[] { 0xE4, 0xB8, 0xAD, 0x80 }, 3)]                 // a stray continuation byte after 中
    public void InvalidBytesAreReportedAtTheirOffset(byte[] bytes, int offset)
    {
        Assert.That(Utf8Text.FirstInvalidOffset(bytes), Is.EqualTo(offset));
        var error = Assert.Throws<BulletFormatException>(() => Utf8Text.Prepare(bytes, InvalidUtf8Handling.Error, "the text"));
        Assert.That(error!.Message, Does.Contain($"offset {offset}").And.StartWith("the text is not valid UTF-8"));
    }

    [Test]
    public void ReplacementModeSubstitutesEachInvalidSequenceAndCountsThem()
    {
        var input = Utf8Text.Prepare([0x61, 0xFF, 0x62, 0xE4, 0xB8, 0x20, 0xE4, 0xB8, 0xAD], InvalidUtf8Handling.Replace, "text");
        Assert.That(Encoding.UTF8.GetString(input.Bytes), Is.EqualTo("a\uFFFDb\uFFFD 中"));
        Assert.That(input.ReplacedSequences, Is.EqualTo(2));
    }

    [Test]
    public void LoneSurrogatesInStringsAreRejected()
    {
        var error = Assert.Throws<BulletArgumentException>(() => Utf8Text.EncodeStrict("ab\uD800c", "text"));
        Assert.That(error!.Message, Does.Contain("surrogate").And.Contain("character 2"));
    }
}
