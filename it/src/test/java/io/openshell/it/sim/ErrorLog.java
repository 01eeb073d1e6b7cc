package io.openshell.it.sim;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects ERROR lines the simulated gateway logs: an actor that crashes (an exception escaping a
 * behavior) logs one, and no history may make the gateway do that.
 */
final class ErrorLog extends AppenderBase<ILoggingEvent> {
  private final List<String> lines = new ArrayList<>();

  static ErrorLog install() {
    ErrorLog log = new ErrorLog();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    log.setContext(root.getLoggerContext());
    log.setName("simulation-errors");
    log.start();
    root.addAppender(log);
    return log;
  }

  void uninstall() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(this);
    stop();
  }

  @Override
  protected synchronized void append(ILoggingEvent event) {
    if (!event.getLevel().isGreaterOrEqual(Level.ERROR)) return;
    String cause = event.getThrowableProxy() == null ? ""
        : " (" + event.getThrowableProxy().getClassName() + ": " + event.getThrowableProxy().getMessage() + ")";
    lines.add(event.getLoggerName() + ": " + event.getFormattedMessage() + cause);
  }

  synchronized List<String> drain() {
    List<String> drained = List.copyOf(lines);
    lines.clear();
    return drained;
  }

  synchronized void clear() {
    lines.clear();
  }
}
