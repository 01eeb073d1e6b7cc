package io.openshell.vm.driver;

import io.openshell.vm.hypervisor.VmPlan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * Owns one sandbox VM: prepares its files, starts its launcher (from the driver's one spawner thread,
 * so the parent-death signal stays armed), watches the launcher's exit, watches the console for the
 * supervisor's session line until the provision deadline, and on delete stops the launcher
 * (SIGTERM, grace, SIGKILL) and removes the state — keeping itself when removal fails, so a retried
 * delete finishes the job. A VM is never restarted: its exit is terminal.
 */
final class VmSandbox {
  private VmSandbox() {}

  /** The console line the supervisor logs when its session is live (see GatewaySession). */
  static String sessionLiveLine(String sandboxId) {
    return "supervisor session live sandbox_id=" + sandboxId;
  }

  interface Command {}

  record Delete(ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

  /** Stop the VM but keep the sandbox's state (the gateway is shutting down). */
  record Stop(ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

  private record Started(Process process) implements Command {}

  private record StartFailed(Throwable cause) implements Command {}

  private record Exited(Process process, int status) implements Command {}

  private record PollFailed(Throwable cause) implements Command {}

  private enum ConsoleTick implements Command { INSTANCE }

  private record ConsoleScanned(ConsoleLog.Scan scan, Throwable failure) implements Command {}

  private enum ProvisionDeadline implements Command { INSTANCE }

  private record TailRead(String tail) implements Command {}

  private enum GraceOver implements Command { INSTANCE }

  private record Removed(Throwable failure) implements Command {}

  /** What the VM actor reports to the driver (which publishes watch events). */
  interface Reports {
    void launched(String sandboxId, long pid);

    void exited(String sandboxId, String reason, String message);

    void provisionTimedOut(String sandboxId, String message);

    /**
     * The sandbox's state is gone. The driver answers {@code replyTo} itself, after it has dropped
     * its record, so a read that follows the delete's reply can never still find the sandbox.
     */
    void deleted(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo);
  }

  /** Side effects on the host, behind one seam so a unit test can make a removal fail. */
  interface Host {
    void prepare(VmPlan plan) throws Exception;

    Process start(List<String> command, VmPlan plan) throws Exception;

    void remove(Path sandboxDir) throws Exception;
  }

  static Behavior<Command> create(VmPlan plan, List<String> launcher, Path sandboxDir, VmDriverSettings settings,
      Host host, Executor spawner, Executor blocking, Reports reports) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Lifecycle lifecycle = new Lifecycle(context, timers, plan, launcher, sandboxDir, settings, host, spawner, blocking, reports);
      context.pipeToSelf(CompletableFuture.runAsync(() -> lifecycle.unchecked(() -> host.prepare(plan)), blocking)
              .thenApplyAsync(ok -> lifecycle.uncheckedStart(), spawner),
          (process, failure) -> failure == null ? new Started(process) : new StartFailed(failure));
      timers.startSingleTimer(ProvisionDeadline.INSTANCE, settings.provisionTimeout());
      return lifecycle.running(null);
    }));
  }

  private static final class Lifecycle {
    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final VmPlan plan;
    private final List<String> launcher;
    private final Path sandboxDir;
    private final VmDriverSettings settings;
    private final Host host;
    private final Executor spawner;
    private final Executor blocking;
    private final Reports reports;
    private final String id;
    private long consoleOffset;
    private boolean supervisorSeen;
    private boolean scanning;
    private boolean ended;
    /** Files are being written and the launcher forked: a delete must wait or it races the writes. */
    private boolean starting = true;
    private Command deferredStop;

    Lifecycle(ActorContext<Command> context, TimerScheduler<Command> timers, VmPlan plan, List<String> launcher,
        Path sandboxDir, VmDriverSettings settings, Host host, Executor spawner, Executor blocking, Reports reports) {
      this.context = context;
      this.timers = timers;
      this.plan = plan;
      this.launcher = launcher;
      this.sandboxDir = sandboxDir;
      this.settings = settings;
      this.host = host;
      this.spawner = spawner;
      this.blocking = blocking;
      this.reports = reports;
      this.id = plan.sandboxId();
    }

    interface Action {
      void run() throws Exception;
    }

    void unchecked(Action action) {
      try {
        action.run();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }

    Process uncheckedStart() {
      try {
        return host.start(launcher, plan);
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }

    Behavior<Command> running(Process process) {
      return Behaviors.receive(Command.class)
          .onMessage(Started.class, started -> {
            Process p = started.process();
            starting = false;
            context.getLog().info("VM launcher started sandbox_id={} pid={}", id, p.pid());
            context.pipeToSelf(p.onExit(), (done, failure) -> failure == null ? new Exited(p, p.exitValue()) : new PollFailed(failure));
            if (deferredStop != null) return stopNow(p, deferredStop);
            reports.launched(id, p.pid());
            timers.startTimerWithFixedDelay(ConsoleTick.INSTANCE, settings.consolePoll());
            return running(p);
          })
          .onMessage(StartFailed.class, failed -> {
            starting = false;
            if (deferredStop != null) return stopNow(null, deferredStop);
            Throwable cause = failed.cause() instanceof java.util.concurrent.CompletionException && failed.cause().getCause() != null
                ? failed.cause().getCause() : failed.cause();
            context.getLog().warn("VM launcher could not start sandbox_id={}: {}", id, cause.getMessage());
            end();
            reports.exited(id, "ProcessExited", "VM could not start: " + cause.getMessage());
            return running(null);
          })
          .onMessage(Exited.class, exited -> {
            context.getLog().info("VM launcher exited sandbox_id={} status={}", id, exited.status());
            end();
            reports.exited(id, "ProcessExited", "VM process exited with status " + exited.status());
            return running(null);
          })
          .onMessage(PollFailed.class, failed -> {
            context.getLog().warn("VM launcher poll failed sandbox_id={}: {}", id, failed.cause().toString());
            end();
            reports.exited(id, "ProcessPollFailed", "VM process poll failed: " + failed.cause().getMessage());
            return running(process);
          })
          .onMessage(ConsoleTick.class, tick -> {
            if (!scanning && !supervisorSeen) {
              scanning = true;
              long from = consoleOffset;
              context.pipeToSelf(CompletableFuture.supplyAsync(() -> {
                    try {
                      return ConsoleLog.scan(plan.consoleLog(), from, sessionLiveLine(id));
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  }, blocking),
                  ConsoleScanned::new);
            }
            return Behaviors.same();
          })
          .onMessage(ConsoleScanned.class, scanned -> {
            scanning = false;
            if (scanned.failure() == null) {
              consoleOffset = scanned.scan().offset();
              if (scanned.scan().found()) {
                supervisorSeen = true;
                timers.cancel(ConsoleTick.INSTANCE);
                timers.cancel(ProvisionDeadline.INSTANCE);
                context.getLog().info("VM supervisor connected sandbox_id={}", id);
              }
            }
            return Behaviors.same();
          })
          .onMessage(ProvisionDeadline.class, deadline -> {
            if (!supervisorSeen && !ended) {
              context.pipeToSelf(CompletableFuture.supplyAsync(() -> {
                try {
                  return ConsoleLog.tail(plan.consoleLog(), settings.consoleTailLines());
                } catch (java.io.IOException e) {
                  return "(console log unreadable: " + e.getMessage() + ")";
                }
              }, blocking), (tail, failure) -> new TailRead(failure == null ? tail : "(console log unreadable)"));
            }
            return Behaviors.same();
          })
          .onMessage(TailRead.class, tail -> {
            if (!supervisorSeen && !ended) {
              context.getLog().warn("VM supervisor did not connect within {} sandbox_id={}", settings.provisionTimeout(), id);
              timers.cancel(ConsoleTick.INSTANCE);
              reports.provisionTimedOut(id, "VM supervisor did not connect within " + settings.provisionTimeout().toSeconds()
                  + " s; last console lines (" + plan.consoleLog() + "):\n" + tail.tail());
            }
            return Behaviors.same();
          })
          .onMessage(Delete.class, delete -> stopOrDefer(process, delete))
          .onMessage(Stop.class, stop -> stopOrDefer(process, stop))
          .build();
    }

    private Behavior<Command> stopOrDefer(Process process, Command stop) {
      if (starting) {
        // Carried out once the start settles. A Delete supersedes a waiting Stop (whose asker is told).
        if (deferredStop == null || (stop instanceof Delete && deferredStop instanceof Stop)) {
          if (deferredStop instanceof Stop superseded) superseded.replyTo().tell(StatusReply.success(false));
          deferredStop = stop;
        } else if (stop instanceof Delete again) {
          again.replyTo().tell(StatusReply.error("a delete of this sandbox is already waiting for its VM to start"));
        } else {
          ((Stop) stop).replyTo().tell(StatusReply.success(false));
        }
        return Behaviors.same();
      }
      return stopNow(process, stop);
    }

    private Behavior<Command> stopNow(Process process, Command stop) {
      return stop instanceof Delete delete ? stop(process, delete.replyTo(), true) : stop(process, ((Stop) stop).replyTo(), false);
    }

    private void end() {
      ended = true;
      timers.cancel(ConsoleTick.INSTANCE);
      timers.cancel(ProvisionDeadline.INSTANCE);
    }

    private Behavior<Command> stop(Process process, ActorRef<StatusReply<Boolean>> replyTo, boolean removeState) {
      timers.cancel(ConsoleTick.INSTANCE);
      timers.cancel(ProvisionDeadline.INSTANCE);
      if (process == null || !process.isAlive()) return removeState ? remove(replyTo) : stopped(replyTo);
      context.getLog().info("stopping VM sandbox_id={} pid={} (SIGTERM)", id, process.pid());
      process.destroy();
      timers.startSingleTimer(GraceOver.INSTANCE, settings.stopGrace());
      return Behaviors.receive(Command.class)
          .onMessage(Exited.class, exited -> exited.process() != process ? Behaviors.same()
              : removeState ? remove(replyTo) : stopped(replyTo))
          .onMessage(PollFailed.class, failed -> removeState ? remove(replyTo) : stopped(replyTo))
          .onMessage(GraceOver.class, over -> {
            context.getLog().info("VM ignored SIGTERM sandbox_id={} pid={}; SIGKILL", id, process.pid());
            process.destroyForcibly();
            return Behaviors.same();
          })
          .onMessage(Started.class, late -> {
            late.process().destroyForcibly();
            return Behaviors.same();
          })
          .onAnyMessage(other -> Behaviors.same())
          .build();
    }

    private Behavior<Command> stopped(ActorRef<StatusReply<Boolean>> replyTo) {
      timers.cancel(GraceOver.INSTANCE);
      context.getLog().info("VM stopped sandbox_id={} (state kept)", id);
      replyTo.tell(StatusReply.success(true));
      return Behaviors.stopped();
    }

    private Behavior<Command> remove(ActorRef<StatusReply<Boolean>> replyTo) {
      timers.cancel(GraceOver.INSTANCE);
      context.pipeToSelf(CompletableFuture.runAsync(() -> unchecked(() -> host.remove(sandboxDir)), blocking),
          (ok, failure) -> new Removed(failure));
      return Behaviors.receive(Command.class)
          .onMessage(Removed.class, removed -> {
            if (removed.failure() != null) {
              Throwable cause = removed.failure().getCause() != null ? removed.failure().getCause() : removed.failure();
              context.getLog().warn("VM state removal failed sandbox_id={}: {}; a retried delete finishes it", id, cause.getMessage());
              replyTo.tell(StatusReply.error("could not remove " + sandboxDir + ": " + cause.getMessage() + "; delete again to retry"));
              return removalPending();
            }
            context.getLog().info("VM sandbox state removed sandbox_id={}", id);
            reports.deleted(id, replyTo);
            return Behaviors.stopped();
          })
          .onMessage(Started.class, late -> {
            late.process().destroyForcibly();
            return Behaviors.same();
          })
          .onAnyMessage(other -> Behaviors.same())
          .build();
    }

    private Behavior<Command> removalPending() {
      return Behaviors.receive(Command.class)
          .onMessage(Delete.class, delete -> remove(delete.replyTo()))
          .onMessage(Stop.class, stop -> stopped(stop.replyTo()))
          .onAnyMessage(other -> Behaviors.same())
          .build();
    }
  }
}
