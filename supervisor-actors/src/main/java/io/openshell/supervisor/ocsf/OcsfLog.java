package io.openshell.supervisor.ocsf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Emits OCSF events as one structured log line each, under the {@code openshell.ocsf} logger. */
public final class OcsfLog {
  private static final Logger log = LoggerFactory.getLogger("openshell.ocsf");

  private OcsfLog() {}

  public static void emit(NetworkActivity event) {
    log.info("{} OCSF {}", event.message(), event.toJson());
  }

  public static void emitWarning(NetworkActivity event) {
    log.warn("{} OCSF {}", event.message(), event.toJson());
  }
}
