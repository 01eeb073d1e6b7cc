package io.openshell.gateway.session;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.gateway.supervisor-session}. */
public record SessionSettings(Duration heartbeatInterval, int deadAfterMissedHeartbeats, int outboundQueueSize) {

  public static SessionSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("supervisor-session");
    return new SessionSettings(c.getDuration("heartbeat-interval"), c.getInt("dead-after-missed-heartbeats"),
        c.getInt("outbound-queue-size"));
  }

  public Duration deadAfter() {
    return heartbeatInterval.multipliedBy(deadAfterMissedHeartbeats);
  }
}
