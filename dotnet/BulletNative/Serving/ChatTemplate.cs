using System.Text;

namespace BulletNative.Serving;

/// <summary>One chat message: "system", "developer", "user" or "assistant", and its text.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// How chat messages become a prompt: the turns of the bundled dialogue dataset. System (and developer) text comes
/// first, followed by a blank line; then each user message as "User: text" and each assistant message as "Bot: text",
/// one per line; the prompt ends with "Bot:" for the reply. The reply stops at the next turn marker.
/// <code>
/// You are brief.
///
/// User: Hello!
/// Bot: Hello! How can I help you today?
/// User: What is 7 plus 5?
/// Bot:
/// </code>
/// </summary>
public static class ChatTemplate
{
    /// <summary>Where a reply ends: the start of the next turn.</summary>
    public static readonly IReadOnlyList<string> TurnMarkers = ["\nUser:", "\nBot:"];

    /// <summary>The prompt for <paramref name="messages"/> (at least one user or assistant message).</summary>
    public static string Prompt(IReadOnlyList<ChatMessage> messages)
    {
        var system = messages.Where(m => m.Role is "system" or "developer").Select(m => m.Content.Trim()).Where(t => t.Length > 0).ToList();
        var prompt = new StringBuilder();
        if (system.Count > 0) prompt.Append(string.Join("\n", system)).Append("\n\n");
        foreach (var message in messages)
        {
            if (message.Role is "system" or "developer") continue;
            prompt.Append(message.Role == "user" ? "User: " : "Bot: ").Append(OneLine(message.Content)).Append('\n');
        }
        return prompt.Append("Bot:").ToString();
    }

    /// <summary>A turn's text on one line: line breaks would read as the end of the turn.</summary>
    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
