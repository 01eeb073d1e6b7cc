package io.openshell.client.logs;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import org.junit.jupiter.api.Test;

class LogFormatTest {
  @Test
  void sinceTakesDurationsBackFromNowOrAnInstant() {
    long now = 10_000_000L;
    assertEquals(now - 30_000, LogFormat.sinceMs("30s", now));
    assertEquals(now - 5 * 60_000, LogFormat.sinceMs("5m", now));
    assertEquals(now - 2 * 3_600_000, LogFormat.sinceMs("2h", now));
    assertEquals(0, LogFormat.sinceMs("1d", now), "never before the epoch");
    assertEquals(1_767_225_600_000L, LogFormat.sinceMs("2026-01-01T00:00:00Z", now));
    CliException bad = assertThrows(CliException.class, () -> LogFormat.sinceMs("yesterday", now));
    assertEquals(2, bad.exitCode());
    assertTrue(bad.getMessage().contains("use a duration such as 30s, 5m"), bad.getMessage());
  }

  @Test
  void aLineShowsTimeLevelSourceTargetAndMessage() {
    SandboxLogLine line = SandboxLogLine.newBuilder().setTimestampMs(0).setLevel("INFO").setSource("sandbox")
        .setTarget("openshell.ocsf").setMessage("relay open (channel_id=c)").build();
    assertEquals("1970-01-01T00:00:00Z INFO  [sandbox] openshell.ocsf: relay open (channel_id=c)", LogFormat.line(line));
    PlatformEvent event = PlatformEvent.newBuilder().setTimestampMs(0).setType("Warning").setReason("ProcessExited")
        .setSource("process").setMessage("supervisor process exited with status 1").build();
    assertEquals("1970-01-01T00:00:00Z EVENT Warning ProcessExited (process): supervisor process exited with status 1",
        LogFormat.event(event));
  }
}
