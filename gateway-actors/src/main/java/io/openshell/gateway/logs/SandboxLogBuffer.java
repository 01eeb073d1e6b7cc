package io.openshell.gateway.logs;

import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sandbox's recent log lines and platform events, bounded by line count, by bytes and by event
 * count: the oldest go first. Every entry gets an offset (1, 2, …) so a follower can ask for "what came
 * after N" and learn how many it missed when the bound evicted them before it read them.
 *
 * <p>Pushed lines carrying the supervisor's {@code boot_id} and {@code seq} fields are deduplicated: a
 * batch the supervisor re-sends after a reconnect (because it never saw the answer) is stored once; a
 * jump in {@code seq} means the supervisor dropped lines, and a gateway line says how many.
 *
 * <p>Not thread-safe: owned by the {@link SandboxLogs} actor.
 */
final class SandboxLogBuffer {
  static final String BOOT_FIELD = "boot_id";
  static final String SEQ_FIELD = "seq";
  /** Object headers, the map and the string objects a line costs beyond its encoded bytes (measured order). */
  static final int LINE_OVERHEAD_BYTES = 320;
  private static final int SHORT_FIELD_CHARS = 256;
  private static final int MAX_FIELDS = 32;
  /** Supervisor boots remembered for deduplication (a supervisor restarts with a new boot id). */
  private static final int REMEMBERED_BOOTS = 8;

  record Line(long offset, SandboxLogLine line, long bytes) {}

  record Event(long offset, PlatformEvent event) {}

  /** Entries after an offset, how many after it were already evicted, and where the next read starts. */
  record Slice<T>(List<T> entries, long missed, long cursor) {}

  private final String sandboxId;
  private final LogSettings settings;
  private final ArrayDeque<Line> lines = new ArrayDeque<>();
  private final ArrayDeque<Event> events = new ArrayDeque<>();
  private long bytes;
  private long lastLineOffset;
  private long lastEventOffset;
  private final Map<String, Long> lastSeqByBoot = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > REMEMBERED_BOOTS;
    }
  };

  SandboxLogBuffer(String sandboxId, LogSettings settings) {
    this.sandboxId = sandboxId;
    this.settings = settings;
  }

  /** Lines from the sandbox (PushSandboxLogs): deduplicated by boot and sequence. Returns how many were kept. */
  int appendPushed(List<SandboxLogLine> pushed) {
    int kept = 0;
    for (SandboxLogLine line : pushed) {
      String boot = line.getFieldsOrDefault(BOOT_FIELD, "");
      long seq = parseSeq(line.getFieldsOrDefault(SEQ_FIELD, ""));
      if (!boot.isEmpty() && seq > 0) {
        Long last = lastSeqByBoot.get(boot);
        if (last != null && seq <= last) continue;
        long expected = last == null ? 1 : last + 1;
        if (seq > expected) {
          long lost = seq - expected;
          append(SandboxLogLine.newBuilder().setSandboxId(sandboxId).setTimestampMs(line.getTimestampMs())
              .setLevel("WARN").setTarget("openshell.gateway.logs").setSource(LogFilter.GATEWAY)
              .setMessage(lost + " sandbox log line" + (lost == 1 ? " was" : "s were")
                  + " dropped by the supervisor before they reached the gateway (its send buffer was full)")
              .build());
        }
        lastSeqByBoot.put(boot, seq);
      }
      append(line.getSource().isEmpty() ? line.toBuilder().setSource(LogFilter.SANDBOX).build() : line);
      kept++;
    }
    return kept;
  }

  /** Appends one line as it is (bounded in size first), evicting the oldest beyond the bounds. */
  void append(SandboxLogLine line) {
    SandboxLogLine bounded = bounded(line);
    long cost = bounded.getSerializedSize() + LINE_OVERHEAD_BYTES;
    lines.addLast(new Line(++lastLineOffset, bounded, cost));
    bytes += cost;
    while (lines.size() > settings.maxLinesPerSandbox() || bytes > settings.maxBytesPerSandbox()) {
      bytes -= lines.removeFirst().bytes();
    }
  }

  void appendEvent(PlatformEvent event) {
    events.addLast(new Event(++lastEventOffset, event));
    while (events.size() > settings.maxEventsPerSandbox()) events.removeFirst();
  }

  /** The last {@code max} lines that pass {@code filter}, oldest first ({@code max} 0 = all buffered). */
  List<SandboxLogLine> tail(int max, LogFilter filter) {
    int limit = max <= 0 ? Integer.MAX_VALUE : max;
    ArrayDeque<SandboxLogLine> picked = new ArrayDeque<>();
    for (Iterator<Line> it = lines.descendingIterator(); it.hasNext() && picked.size() < limit; ) {
      SandboxLogLine line = it.next().line();
      if (filter.matches(line)) picked.addFirst(line);
    }
    return List.copyOf(picked);
  }

  List<PlatformEvent> eventTail(int max) {
    ArrayDeque<PlatformEvent> picked = new ArrayDeque<>();
    for (Iterator<Event> it = events.descendingIterator(); it.hasNext() && picked.size() < max; ) picked.addFirst(it.next().event());
    return List.copyOf(picked);
  }

  Slice<SandboxLogLine> linesAfter(long cursor, int max, LogFilter filter) {
    long oldest = lines.isEmpty() ? lastLineOffset + 1 : lines.peekFirst().offset();
    long missed = Math.max(0, oldest - cursor - 1);
    List<SandboxLogLine> picked = new ArrayList<>();
    long next = Math.max(cursor, oldest - 1);
    for (Line line : lines) {
      if (line.offset() <= cursor) continue;
      if (picked.size() >= max) break;
      next = line.offset();
      if (filter.matches(line.line())) picked.add(line.line());
    }
    return new Slice<>(picked, missed, next);
  }

  Slice<PlatformEvent> eventsAfter(long cursor, int max) {
    long oldest = events.isEmpty() ? lastEventOffset + 1 : events.peekFirst().offset();
    long missed = Math.max(0, oldest - cursor - 1);
    List<PlatformEvent> picked = new ArrayList<>();
    long next = Math.max(cursor, oldest - 1);
    for (Event event : events) {
      if (event.offset() <= cursor) continue;
      if (picked.size() >= max) break;
      next = event.offset();
      picked.add(event.event());
    }
    return new Slice<>(picked, missed, next);
  }

  long lastLineOffset() {
    return lastLineOffset;
  }

  long lastEventOffset() {
    return lastEventOffset;
  }

  int lineCount() {
    return lines.size();
  }

  long bytes() {
    return bytes;
  }

  /** One line can never take more than its share: message, short fields and the field map are capped. */
  private SandboxLogLine bounded(SandboxLogLine line) {
    int maxMessage = settings.maxMessageBytes();
    boolean oversized = line.getMessage().length() > maxMessage || line.getTarget().length() > SHORT_FIELD_CHARS
        || line.getLevel().length() > SHORT_FIELD_CHARS || line.getSource().length() > SHORT_FIELD_CHARS
        || line.getFieldsCount() > MAX_FIELDS || line.getSerializedSize() > 2L * maxMessage;
    if (!oversized) return line;
    SandboxLogLine.Builder b = line.toBuilder().setSandboxId(sandboxId)
        .setTarget(cut(line.getTarget(), SHORT_FIELD_CHARS)).setLevel(cut(line.getLevel(), SHORT_FIELD_CHARS))
        .setSource(cut(line.getSource(), SHORT_FIELD_CHARS));
    if (line.getMessage().length() > maxMessage) {
      b.setMessage(line.getMessage().substring(0, maxMessage) + " … (" + (line.getMessage().length() - maxMessage)
          + " more characters cut by the gateway's logs.max-message-bytes)");
    }
    if (line.getFieldsCount() > MAX_FIELDS || b.build().getSerializedSize() > 2L * maxMessage) {
      b.clearFields();
      line.getFieldsMap().forEach((k, v) -> {
        if ((k.equals(BOOT_FIELD) || k.equals(SEQ_FIELD)) && v.length() <= SHORT_FIELD_CHARS) b.putFields(k, v);
      });
    }
    return b.build();
  }

  private static String cut(String value, int max) {
    return value.length() <= max ? value : value.substring(0, max);
  }

  private static long parseSeq(String value) {
    try {
      return value.isEmpty() ? 0 : Long.parseLong(value);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
