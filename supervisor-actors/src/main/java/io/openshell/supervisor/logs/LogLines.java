package io.openshell.supervisor.logs;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import io.openshell.protocol.v1.SandboxLogLine;

/**
 * One logging event as a {@link SandboxLogLine}: source {@code sandbox}, the logger as target, and the
 * supervisor's boot id and sequence number as fields, so the gateway can drop a batch re-sent after a
 * reconnect and notice lines lost in between. OCSF lines keep the event's message as the message and
 * carry their JSON in the {@code ocsf} field.
 */
final class LogLines {
  static final String OCSF_LOGGER = "openshell.ocsf";

  private LogLines() {}

  static SandboxLogLine from(ILoggingEvent event, String sandboxId, String bootId, long seq, int maxMessageBytes) {
    SandboxLogLine.Builder line = SandboxLogLine.newBuilder().setSandboxId(sandboxId).setTimestampMs(event.getTimeStamp())
        .setLevel(event.getLevel().toString()).setTarget(event.getLoggerName()).setSource("sandbox")
        .putFields("boot_id", bootId).putFields("seq", Long.toString(seq));
    Object[] args = event.getArgumentArray();
    String message;
    if (OCSF_LOGGER.equals(event.getLoggerName()) && args != null && args.length == 2) {
      message = String.valueOf(args[0]);
      line.putFields("ocsf", cut(String.valueOf(args[1]), maxMessageBytes));
    } else {
      message = event.getFormattedMessage();
      IThrowableProxy thrown = event.getThrowableProxy();
      if (thrown != null) message = message + ": " + thrown.getClassName() + ": " + thrown.getMessage();
    }
    return line.setMessage(cut(String.valueOf(message), maxMessageBytes)).build();
  }

  static String cut(String value, int max) {
    if (value.length() <= max) return value;
    return value.substring(0, max) + " … (" + (value.length() - max) + " more characters cut)";
  }
}
