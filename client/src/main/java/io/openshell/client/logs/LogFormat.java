package io.openshell.client.logs;

import io.openshell.client.connection.CliException;
import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How {@code openshell logs} and {@code sandbox watch} print lines and events, and read {@code --since}. */
public final class LogFormat {
  private static final Pattern RELATIVE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private LogFormat() {}

  /** {@code 2026-11-25T09:12:00.123Z INFO  [sandbox] openshell.ocsf: relay open (channel_id=…)} */
  public static String line(SandboxLogLine line) {
    return Instant.ofEpochMilli(line.getTimestampMs()) + " " + String.format(Locale.ROOT, "%-5s", line.getLevel())
        + " [" + line.getSource() + "] " + line.getTarget() + ": " + line.getMessage();
  }

  /** {@code 2026-11-25T09:12:00.123Z EVENT Warning ProcessRestarted (process): supervisor process exited…} */
  public static String event(PlatformEvent event) {
    return Instant.ofEpochMilli(event.getTimestampMs()) + " EVENT " + event.getType() + " " + event.getReason()
        + " (" + event.getSource() + "): " + event.getMessage();
  }

  /** {@code --since}: a duration back from {@code nowMs} (90s, 5m, 2h, 1d) or an ISO-8601 instant. */
  public static long sinceMs(String since, long nowMs) {
    String value = since.trim();
    Matcher m = RELATIVE.matcher(value.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      Duration back = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        default -> Duration.ofDays(amount);
      };
      return Math.max(0, nowMs - back.toMillis());
    }
    try {
      return Instant.parse(value).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new CliException("--since '" + since + "': use a duration such as 30s, 5m, 2h or 1d, or an instant such as 2026-01-31T12:00:00Z", 2);
    }
  }
}
