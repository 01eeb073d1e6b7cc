package io.openshell.supervisor.sshd;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a terminal hang-up does, for a channel that ended: SIGHUP (and SIGCONT, so stopped jobs see
 * it) to every process of the channel's session, then SIGKILL after a grace period to those still
 * there — except processes that ignore SIGHUP ({@code nohup}), which chose to outlive the session.
 */
final class ChannelHangup {
  private static final Logger log = LoggerFactory.getLogger(ChannelHangup.class);

  private ChannelHangup() {}

  static void hangUp(long sessionId, String channelLabel, Duration grace, ScheduledExecutorService timer) {
    List<Long> pids = SessionProcesses.inSession(sessionId);
    if (pids.isEmpty()) {
      return;
    }
    log.info("hanging up {} process(es) of {} (session {})", pids.size(), channelLabel, sessionId);
    for (long pid : pids) {
      ProcessSignals.signal(pid, ProcessSignals.SIGHUP);
      ProcessSignals.signal(pid, ProcessSignals.SIGCONT);
    }
    try {
      timer.schedule(() -> killRemaining(sessionId, channelLabel), grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException daemonStopping) {
      // The daemon is stopping and will not be there after the grace: no process outlives it.
      killRemaining(sessionId, channelLabel);
    }
  }

  private static void killRemaining(long sessionId, String channelLabel) {
    int killed = 0;
    for (long pid : SessionProcesses.inSession(sessionId)) {
      if (!SessionProcesses.ignoresHangup(pid) && ProcessSignals.signal(pid, ProcessSignals.SIGKILL)) {
        killed++;
      }
    }
    if (killed > 0) {
      log.info("killed {} process(es) of {} that outlived the hang-up (session {})", killed, channelLabel, sessionId);
    }
  }
}
