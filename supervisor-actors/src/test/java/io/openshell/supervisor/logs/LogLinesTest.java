package io.openshell.supervisor.logs;

import static org.junit.jupiter.api.Assertions.*;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import io.openshell.supervisor.ocsf.NetworkActivities;
import io.openshell.supervisor.ocsf.NetworkActivity;
import org.junit.jupiter.api.Test;

class LogLinesTest {
  private final LoggerContext loggers = new LoggerContext();

  private LoggingEvent event(String logger, Level level, String format, Object... args) {
    return new LoggingEvent("test", loggers.getLogger(logger), level, format, null, args);
  }

  @Test
  void aLineCarriesItsSandboxBootAndSequence() {
    SandboxLogLine line = LogLines.from(event("io.openshell.supervisor.Main", Level.INFO, "hello {}", "world"), "sb-1", "boot-1", 7, 100);
    assertEquals("sb-1", line.getSandboxId());
    assertEquals("INFO", line.getLevel());
    assertEquals("io.openshell.supervisor.Main", line.getTarget());
    assertEquals("sandbox", line.getSource());
    assertEquals("hello world", line.getMessage());
    assertEquals("boot-1", line.getFieldsOrThrow("boot_id"));
    assertEquals("7", line.getFieldsOrThrow("seq"));
  }

  @Test
  void anOcsfLineKeepsTheEventMessageAndItsJsonInAField() {
    NetworkActivity open = NetworkActivities.relayOpen("ch-1");
    SandboxLogLine line = LogLines.from(event("openshell.ocsf", Level.INFO, "{} OCSF {}", open.message(), open.toJson()),
        "sb", "b", 1, 16384);
    assertEquals("relay open (channel_id=ch-1)", line.getMessage());
    assertEquals(open.toJson(), line.getFieldsOrThrow("ocsf"));
  }

  @Test
  void longMessagesAreCut() {
    SandboxLogLine line = LogLines.from(event("x", Level.WARN, "z".repeat(30)), "sb", "b", 1, 10);
    assertEquals("zzzzzzzzzz … (20 more characters cut)", line.getMessage());
    assertEquals("WARN", line.getLevel());
  }
}
