using System.IO.Compression;
using System.Xml;

namespace BulletNative.Text;

/// <summary>
/// A Word document's text: the paragraphs of word/document.xml (table cells' and text boxes' too), one per line and
/// without trailing empty lines, read straight out of the zip with a streaming XML reader. Inside a paragraph, w:t is text, w:tab a tab, w:br and w:cr a line break, w:noBreakHyphen a
/// hyphen; deleted text (w:delText), field codes and markup-compatibility fallbacks (a second copy of a text box) are
/// left out. The part is read through a byte limit, so a zip bomb stops at the limit instead of filling memory.
/// </summary>
internal static class DocxText
{
    /// <summary>The part holding the document body in every Word, LibreOffice and Google Docs file.</summary>
    public const string DocumentPart = "word/document.xml";

    private const string Wordprocessing = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    private const string WordprocessingStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main";
    private const string MarkupCompatibility = "http://schemas.openxmlformats.org/markup-compatibility/2006";

    /// <summary>
    /// Most parts an archive may list. Word documents have a few dozen; ZipArchive builds an object for every entry of
    /// the central directory before we can look for ours, so a 50 MB upload of ~1 M empty entries would cost hundreds of MB.
    /// </summary>
    public const long MaxEntries = 10_000;

    /// <summary>Converts the .docx file at <paramref name="path"/> into <paramref name="sink"/>; returns the number of paragraphs.</summary>
    public static long Convert(string path, TextSink sink, long maxPartBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        CheckSignature(file);
        CheckEntryCount(file);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw NotWord($"it is not a valid zip archive ({e.Message.TrimEnd('.')})");
        }
        using (zip)
        {
            var entry = zip.GetEntry(DocumentPart) ?? throw NotWord($"it has no {DocumentPart}");
            if (entry.Length > maxPartBytes)
                throw new BulletFormatException(
                    $"the .docx file's {DocumentPart} is {entry.Length:N0} bytes uncompressed, more than the limit of {maxPartBytes:N0} bytes");
            try
            {
                using var part = new LimitedReadStream(entry.Open(), maxPartBytes, $"the .docx file's {DocumentPart}");
                return Paragraphs(part, sink);
            }
            catch (InvalidDataException e)
            {
                throw new BulletFormatException($"the .docx file is damaged: {DocumentPart} cannot be decompressed ({e.Message.TrimEnd('.')})");
            }
            catch (XmlException e)
            {
                throw new BulletFormatException($"the .docx file's {DocumentPart} is not well-formed XML: {e.Message}");
            }
        }
    }

    /// <summary>Names the two look-alikes people upload as .docx before the zip reader gives a vaguer message.</summary>
    private static void CheckSignature(FileStream file)
    {
        Span<byte> head = stackalloc byte[4];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        if (read == 4 && head.SequenceEqual((ReadOnlySpan<byte>)[0xD0, 0xCF, 0x11, 0xE0]))
            throw NotWord("it is an old binary .doc or a password-protected document; save it as .docx without a password");
        if (read < 4 || !head.StartsWith("PK"u8)) throw NotWord("it is not a zip archive, which every .docx file is");
    }

    /// <summary>Reads the entry count from the end-of-central-directory record (zip64's when the short one overflows).</summary>
    private static void CheckEntryCount(FileStream file)
    {
        // The record is 22 bytes plus a comment of up to 65,535 bytes, at the very end of the file.
        var tail = new byte[(int)Math.Min(file.Length, 22 + 65_535)];
        file.Position = file.Length - tail.Length;
        file.ReadExactly(tail);
        file.Position = 0;
        var end = tail.AsSpan().LastIndexOf("PK\x05\x06"u8);
        if (end < 0 || end + 22 > tail.Length) return; // not a zip: ZipArchive says so in its own words
        long entries = BitConverter.ToUInt16(tail, end + 10);
        // Zip64: a 20-byte locator just before the record points at the zip64 record, whose count is at offset 32.
        if (entries == 0xFFFF && end >= 20 && tail.AsSpan(end - 20, 4).SequenceEqual("PK\x06\x07"u8))
        {
            var record = new byte[40];
            var at = BitConverter.ToInt64(tail, end - 20 + 8);
            if (at < 0 || at + record.Length > file.Length) return;
            file.Position = at;
            file.ReadExactly(record);
            file.Position = 0;
            if (record.AsSpan(0, 4).SequenceEqual("PK\x06\x06"u8)) entries = (long)BitConverter.ToUInt64(record, 32);
        }
        if (entries > MaxEntries)
            throw NotWord($"it lists {entries:N0} parts, where Word documents have a few dozen (the limit is {MaxEntries:N0})");
    }

    private static BulletFormatException NotWord(string why) =>
        new($"the .docx file cannot be read as a Word document: {why}");

    private static long Paragraphs(Stream part, TextSink sink)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit, // no entity expansion ("billion laughs") and no external fetches
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = false,
        };
        using var reader = XmlReader.Create(part, settings);
        var chunk = new char[4096];
        long paragraphs = 0, endedParagraphs = 0;
        var runDepth = 0;
        var openParagraphs = 0;
        var inText = false;
        var lineHasText = false;
        var more = reader.Read();
        while (more)
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element when reader.LocalName == "Fallback" && reader.NamespaceURI == MarkupCompatibility:
                    reader.Skip();
                    more = !reader.EOF;
                    continue;
                case XmlNodeType.Element when IsWord(reader):
                    switch (reader.LocalName)
                    {
                        case "p":
                            paragraphs++;
                            if (reader.IsEmptyElement) (endedParagraphs, lineHasText) = (endedParagraphs + 1, false);
                            else
                            {
                                // A paragraph inside another (a text box) starts a line of its own after the outer text
                                // (lineHasText: text since the last line break, written or pending).
                                if (openParagraphs > 0 && lineHasText) endedParagraphs++;
                                openParagraphs++;
                            }
                            break;
                        case "r" when !reader.IsEmptyElement:
                            runDepth++;
                            break;
                        case "t" when !reader.IsEmptyElement:
                            inText = true;
                            break;
                        // w:tab also defines tab stops in paragraph properties; only a run's w:tab is a character.
                        case "tab" or "ptab" when runDepth > 0:
                            Write('\t');
                            break;
                        case "br" or "cr" when runDepth > 0:
                            Write('\n');
                            break;
                        case "noBreakHyphen" when runDepth > 0:
                            Write('-');
                            break;
                    }
                    break;
                case XmlNodeType.EndElement when IsWord(reader):
                    if (reader.LocalName == "r") runDepth--;
                    else if (reader.LocalName == "t") inText = false;
                    else if (reader.LocalName == "p") (endedParagraphs, openParagraphs, lineHasText) = (endedParagraphs + 1, openParagraphs - 1, false);
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace when inText:
                    // In chunks, so one enormous text node never becomes one enormous string.
                    int count;
                    while ((count = reader.ReadValueChunk(chunk, 0, chunk.Length)) > 0)
                    {
                        StartLine();
                        sink.Write(chunk.AsSpan(0, count));
                        lineHasText = true;
                    }
                    break;
            }
            more = reader.Read();
        }
        if (sink.Characters == 0) throw new BulletFormatException("the .docx file has no text");
        return paragraphs;

        // A paragraph's end becomes a newline only when text follows, so the text has no trailing newlines.
        void StartLine()
        {
            for (; endedParagraphs > 0; endedParagraphs--) sink.Write('\n');
        }

        void Write(char c)
        {
            StartLine();
            sink.Write(c);
            lineHasText = c != '\n';
        }
    }

    private static bool IsWord(XmlReader reader) => reader.NamespaceURI is Wordprocessing or WordprocessingStrict;
}
