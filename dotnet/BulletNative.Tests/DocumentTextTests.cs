using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Text;

namespace BulletNative.Tests;

/// <summary>.jsonl and .docx to text: exact output, line-numbered rejections, limits, and nothing left behind on failure.</summary>
public class DocumentTextTests
{
    private const string W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    private const string Mc = "http://schemas.openxmlformats.org/markup-compatibility/2006";

    private string _scratch = "";

    [SetUp]
    public void NewScratch() => _scratch = TestPaths.NewScratch();

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_scratch, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Output => Path.Combine(_scratch, "out.txt");

    private JsonObject Convert(string source, string kind, string options = "{}") =>
        DocumentText.Convert(source, kind, Output, JsonNode.Parse(options)!.AsObject());

    /// <summary>The conversion fails with a message containing <paramref name="expected"/>, and leaves no file behind.</summary>
    private void AssertRejected(string source, string kind, string expected, string options = "{}")
    {
        Assert.That(() => Convert(source, kind, options),
            Throws.InstanceOf<BulletException>().With.Message.Contains(expected));
        Assert.That(Directory.GetFiles(_scratch).Select(Path.GetFileName), Does.Not.Contain("out.txt"));
        Assert.That(Directory.GetFiles(_scratch).Where(f => f.EndsWith(".tmp")), Is.Empty, "a temporary file was left behind");
    }

    [Test]
    public void JsonlTextsAreJoinedByBlankLines()
    {
        // CRLF, a BOM, a blank line, escapes (including a surrogate pair), other fields, and a repeated key (the last wins).
        var source = Write("r.jsonl", Encoding.UTF8.GetBytes(
            "\uFEFF{\"text\": \"Pip hopped.\\nThe end.\", \"id\": 1}\r\n" +
            "   \r\n" +
            "{\"meta\": {\"text\": 5}, \"text\": \"Caf\\u00e9 \\ud83d\\ude42\"}\n" +
            "{\"text\": \"first\", \"text\": \"Fern hid!\"}"));
        var result = Convert(source, "jsonl");
        var expected = "Pip hopped.\nThe end.\n\nCafé 🙂\n\nFern hid!";
        Assert.That(File.ReadAllText(Output), Is.EqualTo(expected));
        Assert.That(result["kind"]!.GetValue<string>(), Is.EqualTo("jsonl"));
        Assert.That(result["records"]!.GetValue<long>(), Is.EqualTo(3));
        Assert.That(result["bytes"]!.GetValue<long>(), Is.EqualTo(Encoding.UTF8.GetByteCount(expected)));
        Assert.That(result["characters"]!.GetValue<long>(), Is.EqualTo(expected.Length - 1)); // 🙂 is two UTF-16 units
        Assert.That(result["lines"]!.GetValue<long>(), Is.EqualTo(6));
    }

    [Test]
    public void JsonlLinesSpanningReadBuffersConvertWhole()
    {
        // Lines of ~1 KiB with multi-byte characters cross the 64 KiB read chunks at many places.
        var texts = Enumerable.Range(0, 300).Select(i => $"record {i} " + string.Concat(Enumerable.Repeat("crème brûlée ", 70))).ToList();
        var source = Write("big.jsonl", Encoding.UTF8.GetBytes(string.Concat(texts.Select(t => $"{{\"text\": \"{t}\"}}\n"))));
        var result = Convert(source, "jsonl");
        Assert.That(File.ReadAllText(Output), Is.EqualTo(string.Join("\n\n", texts)));
        Assert.That(result["records"]!.GetValue<long>(), Is.EqualTo(300));
    }

    [TestCase("{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n", "line 2 of the .jsonl file must be an object with a \"text\" string field")]
    [TestCase("{\"text\": \"ok\"}\n\n{\"text\": 42}\n", "line 3 of the .jsonl file must be an object")]
    [TestCase("[{\"text\": \"in an array\"}]\n", "line 1 of the .jsonl file must be an object")]
    [TestCase("\"just a string\"\n", "line 1 of the .jsonl file must be an object")]
    [TestCase("{\"text\": \"ok\"}\n{\"text\": \n", "line 2 of the .jsonl file is not valid JSON")]
    [TestCase("{\"text\": \"ok\"} trailing\n", "line 1 of the .jsonl file is not valid JSON")]
    [TestCase("{\"text\": \"ok\",}\n", "line 1 of the .jsonl file is not valid JSON")]
    [TestCase("{\"text\": \"\\ud800 alone\"}\n", "line 1 of the .jsonl file has a \"text\" with an invalid \\u escape")]
    [TestCase("", "the .jsonl file has no records")]
    [TestCase("\n  \r\n\n", "the .jsonl file has no records")]
    public void MalformedJsonlNamesTheLine(string content, string expected) =>
        AssertRejected(Write("bad.jsonl", Encoding.UTF8.GetBytes(content)), "jsonl", expected);

    [Test]
    public void JsonlErrorsSayWhereInTheLine()
    {
        var source = Write("bad.jsonl", "{\"text\": }\n"u8.ToArray());
        Assert.That(() => Convert(source, "jsonl"), Throws.InstanceOf<BulletFormatException>()
            .With.Message.Match(@"^line 1 of the \.jsonl file is not valid JSON: .+ \(at position 10 of the line\)$"));
    }

    [Test]
    public void NonUtf8JsonlNamesLineAndPosition()
    {
        var latin1 = Encoding.Latin1.GetBytes("{\"text\": \"caf\u00e9\"}\n");
        var source = Write("latin1.jsonl", [.. "{\"text\": \"ok\"}\n"u8, .. latin1]);
        AssertRejected(source, "jsonl", "line 2 of the .jsonl file is not UTF-8 text (invalid byte at position 14 of the line)");
    }

    [Test]
    public void JsonlLimitsApplyToALineAndToTheOutput()
    {
        var source = Write("r.jsonl", Encoding.UTF8.GetBytes("{\"text\": \"short\"}\n{\"text\": \"" + new string('a', 5000) + "\"}\n"));
        AssertRejected(source, "jsonl", "line 2 of the .jsonl file is longer than the limit of 4,096 bytes", """{"max_part_bytes": 4096}""");
        AssertRejected(source, "jsonl", "the converted text is larger than the limit of 1,000 bytes", """{"max_output_bytes": 1000}""");
    }

    [Test]
    public void AFailedConversionLeavesAnExistingDestinationUntouched()
    {
        File.WriteAllText(Output, "previous");
        var source = Write("bad.jsonl", "{\"text\": \"ok\"}\nnot json\n"u8.ToArray());
        Assert.That(() => Convert(source, "jsonl"), Throws.InstanceOf<BulletFormatException>().With.Message.Contains("line 2"));
        Assert.That(File.ReadAllText(Output), Is.EqualTo("previous"));
    }

    // ---- .docx ----------------------------------------------------------------------------------------------------

    private static string Document(string body) =>
        $"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>""" +
        $"""<w:document xmlns:w="{W}" xmlns:mc="{Mc}"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>""";

    /// <summary>A minimal real .docx (content types, package relationships, the document part) as Word lays it out.</summary>
    private static byte[] Docx(string documentXml, Action<ZipArchive>? extra = null, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Part(string name, string xml)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name, level).Open(), new UTF8Encoding(false));
                writer.Write(xml);
            }
            Part("[Content_Types].xml", """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>""");
            Part("_rels/.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>""");
            Part(DocxText.DocumentPart, documentXml);
            extra?.Invoke(zip);
        }
        return memory.ToArray();
    }

    [Test]
    public void DocxParagraphsBecomeLinesWithTabsAndBreaks()
    {
        var body =
            // Tab stops in paragraph properties are not characters; runs split words anywhere.
            """<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Pip the rab</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">bit hopped. </w:t></w:r></w:p>""" +
            // Tab, line break, non-breaking hyphen; tracked deletions are left out, insertions kept.
            """<w:p><w:r><w:t>Name</w:t><w:tab/><w:t>Fern</w:t><w:br/><w:t>the fox</w:t><w:noBreakHyphen/><w:t>cub</w:t></w:r><w:del w:id="1"><w:r><w:delText>deleted</w:delText></w:r></w:del><w:ins w:id="2"><w:r><w:t xml:space="preserve"> hid!</w:t></w:r></w:ins></w:p>""" +
            """<w:p/>""" +
            """<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell one</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>cell two</w:t></w:r></w:p></w:tc></w:tr></w:tbl>""" +
            // A text box comes twice (the drawing and its fallback); its paragraph gets a line of its own.
            """<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>Caf&#233; 🙂 &amp; <![CDATA[co]]></w:t></w:r></w:p>""" +
            """<w:p><w:r><w:instrText> PAGE </w:instrText></w:r></w:p><w:p/>""";
        var result = Convert(Write("letter.docx", Docx(Document(body))), "docx");
        var expected = "Pip the rabbit hopped. \nName\tFern\nthe fox-cub hid!\n\ncell one\ncell two\nboxed\nCafé 🙂 & co";
        Assert.That(File.ReadAllText(Output), Is.EqualTo(expected));
        Assert.That(result["kind"]!.GetValue<string>(), Is.EqualTo("docx"));
        Assert.That(result["paragraphs"]!.GetValue<long>(), Is.EqualTo(9));
        Assert.That(result["lines"]!.GetValue<long>(), Is.EqualTo(8));
        Assert.That(result["characters"]!.GetValue<long>(), Is.EqualTo(expected.Length - 1));
        Assert.That(result["bytes"]!.GetValue<long>(), Is.EqualTo(Encoding.UTF8.GetByteCount(expected)));
    }

    [Test]
    public void ATextBoxInTheMiddleOfAParagraphGetsALineOfItsOwn()
    {
        var box = """<w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r>""";
        var body = $"""<w:p><w:r><w:t>Intro</w:t></w:r>{box}<w:r><w:t xml:space="preserve"> tail</w:t></w:r></w:p><w:p><w:r><w:t>next</w:t></w:r></w:p>""";
        Convert(Write("box.docx", Docx(Document(body))), "docx");
        Assert.That(File.ReadAllText(Output), Is.EqualTo("Intro\nboxed\n tail\nnext"));
    }

    [TestCase(DocxText.MaxEntries)]
    [TestCase(70_000)] // past 65,535 entries only the zip64 record holds the count
    public void AnArchiveListingTooManyPartsIsRejectedBeforeItsDirectoryIsRead(long extraParts)
    {
        var crowded = Docx(Document("<w:p><w:r><w:t>hi</w:t></w:r></w:p>"), zip =>
        {
            for (var i = 0; i < extraParts; i++) zip.CreateEntry($"x/{i}");
        });
        var parts = new ZipArchive(new MemoryStream(crowded)).Entries.Count; // the count the record must report
        AssertRejected(Write("crowded.docx", crowded), "docx",
            $"it lists {parts:N0} parts, where Word documents have a few dozen (the limit is {DocxText.MaxEntries:N0})");
    }

    [Test]
    public void StrictOpenXmlIsReadToo()
    {
        var xml = """<w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"><w:body><w:p><w:r><w:t>strict</w:t></w:r></w:p></w:body></w:document>""";
        Convert(Write("strict.docx", Docx(xml)), "docx");
        Assert.That(File.ReadAllText(Output), Is.EqualTo("strict"));
    }

    [Test]
    public void ADocxWithoutTextIsRejected() =>
        AssertRejected(Write("empty.docx", Docx(Document("<w:p/><w:p><w:r><w:t></w:t></w:r></w:p>"))), "docx", "the .docx file has no text");

    [Test]
    public void CorruptOrForeignFilesAreNotWordDocuments()
    {
        const string prefix = "the .docx file cannot be read as a Word document: ";
        AssertRejected(Write("text.docx", "this is not a zip file"u8.ToArray()), "docx", prefix + "it is not a zip archive");
        AssertRejected(Write("tiny.docx", "PK"u8.ToArray()), "docx", prefix + "it is not a zip archive");
        AssertRejected(Write("old.docx", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. new byte[504]]), "docx", "old binary .doc");
        var docx = Docx(Document("<w:p><w:r><w:t>hello</w:t></w:r></w:p>"));
        AssertRejected(Write("cut.docx", docx[..(docx.Length / 2)]), "docx", prefix + "it is not a valid zip archive");
        AssertRejected(Write("other.docx", RenamePart(docx)), "docx", prefix + "it has no word/document.xml");
    }

    /// <summary>The same archive with its document part under another name.</summary>
    private static byte[] RenamePart(byte[] docx)
    {
        using var memory = new MemoryStream();
        memory.Write(docx);
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = zip.GetEntry(DocxText.DocumentPart)!;
            using (var from = entry.Open())
            using (var to = zip.CreateEntry("word/other.xml").Open())
                from.CopyTo(to);
            entry.Delete();
        }
        return memory.ToArray();
    }

    [Test]
    public void MalformedOrHostileXmlIsRejected()
    {
        AssertRejected(Write("broken.docx", Docx(Document("<w:p><w:r><w:t>open</w:r></w:p>"))), "docx", "word/document.xml is not well-formed XML");
        // Entity expansion ("billion laughs") needs a DTD, which is refused outright.
        var laughs = """<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>""" +
                     $"""<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>""";
        AssertRejected(Write("laughs.docx", Docx(laughs)), "docx", "DTD");
    }

    [Test]
    public void AnOversizePartFailsAtTheLimitWithoutReadingIt()
    {
        // 8 MiB of text compresses to a few KiB: a small zip bomb, refused from its declared size.
        var bomb = Document("<w:p><w:r><w:t>" + new string('a', 8 << 20) + "</w:t></w:r></w:p>");
        var source = Write("bomb.docx", Docx(bomb, level: CompressionLevel.SmallestSize));
        Assert.That(new FileInfo(source).Length, Is.LessThan(100_000));
        AssertRejected(source, "docx", "word/document.xml is 8,388,", """{"max_part_bytes": 1048576}""");
        AssertRejected(source, "docx", "more than the limit of 1,048,576 bytes", """{"max_part_bytes": 1048576}""");
    }

    [Test]
    public void APartWhoseHeaderUnderstatesItsSizeIsRejected()
    {
        var xml = Document("<w:p><w:r><w:t>" + new string('a', 3 << 20) + "</w:t></w:r></w:p>");
        var docx = Docx(xml, level: CompressionLevel.SmallestSize);
        // Rewrite the document part's uncompressed size (local header and central directory) to claim 1,000 bytes.
        var actual = BitConverter.GetBytes((uint)Encoding.UTF8.GetByteCount(xml));
        var lie = BitConverter.GetBytes(1000u);
        var patched = 0;
        for (var i = 0; i + 4 <= docx.Length; i++)
            if (docx.AsSpan(i, 4).SequenceEqual(actual)) { lie.CopyTo(docx, i); patched++; }
        Assert.That(patched, Is.GreaterThanOrEqualTo(2));
        var source = Write("liar.docx", docx);
        // .NET's zip reader stops at the declared size (the cut XML then fails); were it to read on, the limit would stop it.
        Assert.That(() => Convert(source, "docx", """{"max_part_bytes": 1048576}"""),
            Throws.InstanceOf<BulletFormatException>().With.Message.StartsWith("the .docx file's word/document.xml"));
        Assert.That(File.Exists(Output), Is.False);
    }

    [Test]
    public void TheReadLimitCountsBytesActuallyRead()
    {
        var exact = new LimitedReadStream(new MemoryStream(new byte[1000]), 1000, "the part");
        exact.CopyTo(Stream.Null);
        Assert.That(exact.Position, Is.EqualTo(1000));
        var over = new LimitedReadStream(new MemoryStream(new byte[1001]), 1000, "the part");
        Assert.That(() => over.CopyTo(Stream.Null),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the part is larger than the limit of 1,000 bytes uncompressed"));
    }

    [Test]
    public void TheOutputLimitAppliesToDocxText()
    {
        var source = Write("long.docx", Docx(Document("<w:p><w:r><w:t>" + new string('b', 5000) + "</w:t></w:r></w:p>")));
        AssertRejected(source, "docx", "the converted text is larger than the limit of 4,096 bytes", """{"max_output_bytes": 4096}""");
    }

    // ---- arguments ------------------------------------------------------------------------------------------------

    [Test]
    public void BadArgumentsAreNamed()
    {
        var source = Write("r.jsonl", "{\"text\": \"ok\"}"u8.ToArray());
        Assert.That(() => Convert(source, "pdf"), Throws.TypeOf<BulletArgumentException>().With.Message.Contains("use jsonl or docx"));
        Assert.That(() => Convert(source, "jsonl", """{"max_output_bytes": -1}"""),
            Throws.TypeOf<BulletArgumentException>().With.Message.Contains("max_output_bytes must be a positive whole number"));
        Assert.That(() => Convert(source, "jsonl", """{"max_part_bytes": 1.5}"""),
            Throws.TypeOf<BulletArgumentException>().With.Message.Contains("max_part_bytes"));
        Assert.That(() => Convert(source, "jsonl", """{"limit": 5}"""),
            Throws.TypeOf<BulletArgumentException>().With.Message.Contains("unknown conversion option \"limit\" (known: max_output_bytes, max_part_bytes)"));
        Assert.That(() => Convert(Path.Combine(_scratch, "missing.jsonl"), "jsonl"),
            Throws.InstanceOf<BulletException>().With.Message.Contains("does not exist"));
    }
}
