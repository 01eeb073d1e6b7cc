package io.openshell.gateway.logs;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.openshell.protocol.v1.SandboxLogLine;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.LoggerFactory;

/**
 * Correlates the gateway's own log lines with sandboxes, as upstream's tracing layer does: every line
 * whose message names {@code sandbox_id=<id>} is also kept in that sandbox's logs, with source
 * {@code gateway}. The gateway's logging already redacts tokens, so nothing secret is copied.
 */
public final class GatewayLogCapture extends AppenderBase<ILoggingEvent> {
  private static final Pattern SANDBOX_ID = Pattern.compile("sandbox_id=([A-Za-z0-9._-]{1,128})");

  private final ActorRef<SandboxLogs.Command> logs;

  private GatewayLogCapture(ActorRef<SandboxLogs.Command> logs) {
    this.logs = logs;
  }

  /** Attaches a capture to the root logger until {@code system} shuts down. No-op without logback. */
  public static void install(ActorSystem<?> system, ActorRef<SandboxLogs.Command> logs) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return;
    GatewayLogCapture capture = new GatewayLogCapture(logs);
    capture.setContext(context);
    capture.setName("sandbox-logs-" + system.name() + "-" + System.identityHashCode(capture));
    capture.start();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(capture);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "detach-log-capture", () -> {
      root.detachAppender(capture);
      capture.stop();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  @Override
  protected void append(ILoggingEvent event) {
    String message = event.getFormattedMessage();
    if (message == null) return;
    Matcher m = SANDBOX_ID.matcher(message);
    if (!m.find()) return;
    logs.tell(new SandboxLogs.GatewayLine(line(m.group(1), event, message)));
  }

  static SandboxLogLine line(String sandboxId, ILoggingEvent event, String message) {
    return SandboxLogLine.newBuilder().setSandboxId(sandboxId).setTimestampMs(event.getTimeStamp())
        .setLevel(event.getLevel().toString()).setTarget(event.getLoggerName()).setMessage(message)
        .setSource(LogFilter.GATEWAY).build();
  }
}
