package io.openshell.gateway.logs;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SandboxLogBufferTest {
  private static final LogSettings SMALL = new LogSettings(5, 1024 * 1024, 100, 3, Duration.ofSeconds(1), 512);

  private static SandboxLogLine line(String message) {
    return SandboxLogLine.newBuilder().setSandboxId("sb").setTimestampMs(1000).setLevel("INFO").setSource("sandbox")
        .setMessage(message).build();
  }

  private static SandboxLogLine pushed(String boot, long seq) {
    return line("line " + seq).toBuilder().putFields("boot_id", boot).putFields("seq", Long.toString(seq)).build();
  }

  private static List<String> messages(List<SandboxLogLine> lines) {
    return lines.stream().map(SandboxLogLine::getMessage).toList();
  }

  @Test
  void keepsAtMostMaxLinesOldestGoFirst() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", SMALL);
    for (int i = 1; i <= 6; i++) buffer.append(line("m" + i));
    assertEquals(5, buffer.lineCount());
    assertEquals(List.of("m2", "m3", "m4", "m5", "m6"), messages(buffer.tail(0, LogFilter.ALL)));
    assertEquals(List.of("m5", "m6"), messages(buffer.tail(2, LogFilter.ALL)));
  }

  @Test
  void byteBoundEvictsBeforeTheLineBound() {
    LogSettings bytes = new LogSettings(1000, 4096, 1000, 3, Duration.ofSeconds(1), 512);
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", bytes);
    for (int i = 0; i < 100; i++) buffer.append(line("x".repeat(900)));
    assertTrue(buffer.bytes() <= 4096, "bytes " + buffer.bytes());
    assertEquals(3, buffer.lineCount(), "three lines of ~1.2 KiB fit in 4 KiB");
  }

  @Test
  void longMessagesAreCutAndSaySo() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", SMALL);
    buffer.append(line("y".repeat(150)));
    String kept = buffer.tail(1, LogFilter.ALL).get(0).getMessage();
    assertTrue(kept.startsWith("y".repeat(100) + " … (50 more characters cut"), kept);
  }

  @Test
  void aBatchSentTwiceIsStoredOnce() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", new LogSettings(100, 1 << 20, 100, 3, Duration.ofSeconds(1), 512));
    List<SandboxLogLine> batch = List.of(pushed("b1", 1), pushed("b1", 2), pushed("b1", 3));
    assertEquals(3, buffer.appendPushed(batch));
    assertEquals(0, buffer.appendPushed(batch), "re-sent after a reconnect");
    assertEquals(2, buffer.appendPushed(List.of(pushed("b1", 3), pushed("b1", 4), pushed("b1", 5))));
    assertEquals(List.of("line 1", "line 2", "line 3", "line 4", "line 5"), messages(buffer.tail(0, LogFilter.ALL)));
  }

  @Test
  void aNewBootStartsItsOwnSequence() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", new LogSettings(100, 1 << 20, 100, 3, Duration.ofSeconds(1), 512));
    buffer.appendPushed(List.of(pushed("b1", 1), pushed("b1", 2)));
    assertEquals(2, buffer.appendPushed(List.of(pushed("b2", 1), pushed("b2", 2))));
    assertEquals(4, buffer.lineCount());
  }

  @Test
  void aGapInTheSequenceIsReportedAsAGatewayWarning() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", new LogSettings(100, 1 << 20, 100, 3, Duration.ofSeconds(1), 512));
    buffer.appendPushed(List.of(pushed("b1", 1), pushed("b1", 5)));
    List<SandboxLogLine> lines = buffer.tail(0, LogFilter.ALL);
    assertEquals(3, lines.size());
    assertEquals("gateway", lines.get(1).getSource());
    assertEquals("WARN", lines.get(1).getLevel());
    assertTrue(lines.get(1).getMessage().startsWith("3 sandbox log lines were dropped by the supervisor"), lines.get(1).getMessage());
  }

  @Test
  void linesAfterACursorCountWhatTheBoundEvicted() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", SMALL);
    for (int i = 1; i <= 3; i++) buffer.append(line("m" + i));
    var first = buffer.linesAfter(0, 10, LogFilter.ALL);
    assertEquals(List.of("m1", "m2", "m3"), messages(first.entries()));
    assertEquals(0, first.missed());
    assertEquals(3, first.cursor());
    for (int i = 4; i <= 10; i++) buffer.append(line("m" + i));
    var behind = buffer.linesAfter(first.cursor(), 10, LogFilter.ALL);
    assertEquals(2, behind.missed(), "m4 and m5 were evicted unread");
    assertEquals(List.of("m6", "m7", "m8", "m9", "m10"), messages(behind.entries()));
    assertEquals(10, behind.cursor());
    var nothing = buffer.linesAfter(10, 10, LogFilter.ALL);
    assertTrue(nothing.entries().isEmpty());
    assertEquals(10, nothing.cursor());
  }

  @Test
  void eventsAreBoundedSeparately() {
    SandboxLogBuffer buffer = new SandboxLogBuffer("sb", SMALL);
    for (int i = 1; i <= 5; i++) buffer.appendEvent(PlatformEvent.newBuilder().setReason("E" + i).build());
    for (int i = 1; i <= 5; i++) buffer.append(line("m" + i));
    List<String> reasons = new ArrayList<>();
    buffer.eventTail(10).forEach(e -> reasons.add(e.getReason()));
    assertEquals(List.of("E3", "E4", "E5"), reasons);
    assertEquals(5, buffer.lineCount(), "lines did not push events out, nor the other way round");
  }

  @Test
  void filtersBySourceLevelAndTime() {
    LogFilter warnFromGateway = ((LogFilter.Valid) LogFilter.parse(List.of("gateway"), "warn", 0)).filter();
    assertTrue(warnFromGateway.matches(line("a").toBuilder().setSource("gateway").setLevel("ERROR").build()));
    assertFalse(warnFromGateway.matches(line("a").toBuilder().setSource("gateway").setLevel("INFO").build()));
    assertFalse(warnFromGateway.matches(line("a").toBuilder().setSource("sandbox").setLevel("ERROR").build()));
    LogFilter since = ((LogFilter.Valid) LogFilter.parse(List.of("all"), "", 2000)).filter();
    assertFalse(since.matches(line("old")));
    assertTrue(since.matches(line("new").toBuilder().setTimestampMs(2000).build()));
    assertEquals(new LogFilter.Invalid("unknown log source 'pod': use gateway, sandbox or all"),
        LogFilter.parse(List.of("pod"), "", 0));
    assertEquals(new LogFilter.Invalid("unknown log level 'loud': use trace, debug, info, warn or error"),
        LogFilter.parse(List.of(), "loud", 0));
  }
}
