package io.openshell.gateway.compute.process;

import io.openshell.protocol.compute.v1.DriverPlatformEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * Owns one sandbox's supervisor process: starts it (from the driver's one spawner thread, so the
 * parent-death signal stays armed), restarts it with backoff when it exits, declares a crash loop
 * terminal, and on delete stops it (SIGTERM, grace, SIGKILL) and removes its state.
 */
final class SandboxProcess {
  private SandboxProcess() {}

  interface Command {}

  record Delete(ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

  /** Stop the process but keep the sandbox's state (the gateway is shutting down). */
  record Stop(ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

  private record Started(Process process) implements Command {}

  private record StartFailed(Throwable cause) implements Command {}

  private record Exited(Process process, int status) implements Command {}

  private enum Restart implements Command { INSTANCE }

  private enum GraceOver implements Command { INSTANCE }

  private record Removed(Throwable failure) implements Command {}

  /** What the process actor reports to the driver (which publishes watch events). */
  interface Reports {
    void exitedTerminally(String sandboxId, int status);

    void platformEvent(String sandboxId, DriverPlatformEvent event);

    /**
     * The sandbox's state is gone. The driver answers {@code replyTo} itself, after it has dropped
     * its record, so a read that follows the delete's reply can never still find the sandbox.
     */
    void deleted(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo);
  }

  static Behavior<Command> create(String sandboxId, LaunchPlan plan, Path sandboxDir, ProcessDriverSettings settings,
      Executor spawner, Executor blocking, Reports reports) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Lifecycle lifecycle = new Lifecycle(context, timers, sandboxId, plan, sandboxDir, settings, spawner, blocking, reports);
      lifecycle.spawn();
      return lifecycle.running(null, settings.restartInitial());
    }));
  }

  private static final class Lifecycle {
    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final String sandboxId;
    private final LaunchPlan plan;
    private final Path sandboxDir;
    private final ProcessDriverSettings settings;
    private final Executor spawner;
    private final Executor blocking;
    private final Reports reports;
    private final Deque<Long> recentExits = new ArrayDeque<>();

    Lifecycle(ActorContext<Command> context, TimerScheduler<Command> timers, String sandboxId, LaunchPlan plan,
        Path sandboxDir, ProcessDriverSettings settings, Executor spawner, Executor blocking, Reports reports) {
      this.context = context;
      this.timers = timers;
      this.sandboxId = sandboxId;
      this.plan = plan;
      this.sandboxDir = sandboxDir;
      this.settings = settings;
      this.spawner = spawner;
      this.blocking = blocking;
      this.reports = reports;
    }

    void spawn() {
      context.pipeToSelf(CompletableFuture.supplyAsync(this::startProcess, spawner),
          (process, failure) -> failure == null ? new Started(process) : new StartFailed(failure));
    }

    private Process startProcess() {
      try {
        // The workspace outlives supervisor restarts and gateway restarts; only a delete removes it.
        Files.createDirectories(sandboxDir.resolve("workspace"));
        ProcessBuilder builder = new ProcessBuilder(plan.command())
            .directory(plan.workingDirectory().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(sandboxDir.resolve("supervisor.log").toFile()))
            .redirectInput(plan.stdin().isEmpty()
                ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
                : ProcessBuilder.Redirect.PIPE);
        builder.environment().clear();
        builder.environment().putAll(plan.environment());
        Process process = builder.start();
        if (!plan.stdin().isEmpty()) {
          // A few bytes into an empty pipe never block; closing it is the supervisor's end of input.
          try (var stdin = process.getOutputStream()) {
            stdin.write(plan.stdin().getBytes(java.nio.charset.StandardCharsets.UTF_8));
          } catch (IOException e) {
            // The process died at once; its exit is reported and it is restarted like any other exit.
          }
        }
        return process;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    Behavior<Command> running(Process process, Duration nextBackoff) {
      return Behaviors.receive(Command.class)
          .onMessage(Started.class, started -> {
            context.getLog().info("supervisor process started sandbox_id={} pid={} isolated={}", sandboxId,
                started.process().pid(), plan.isolated());
            context.pipeToSelf(started.process().onExit(), (p, f) -> new Exited(started.process(), p == null ? -1 : p.exitValue()));
            return running(started.process(), nextBackoff);
          })
          .onMessage(StartFailed.class, failed -> {
            context.getLog().warn("supervisor process could not start sandbox_id={}: {}", sandboxId, failed.cause().getMessage());
            return exited(-1, nextBackoff);
          })
          .onMessage(Exited.class, exited -> exited(exited.status(), nextBackoff))
          .onMessage(Restart.class, restart -> {
            spawn();
            return running(null, nextBackoff);
          })
          .onMessage(Delete.class, delete -> stop(process, delete.replyTo(), true))
          .onMessage(Stop.class, stop -> stop(process, stop.replyTo(), false))
          .build();
    }

    private Behavior<Command> exited(int status, Duration backoff) {
      long now = System.nanoTime();
      recentExits.addLast(now);
      while (!recentExits.isEmpty() && now - recentExits.peekFirst() > settings.crashLoopWindow().toNanos()) recentExits.removeFirst();
      if (recentExits.size() >= settings.crashLoopExits()) {
        context.getLog().warn("supervisor process crash-looping sandbox_id={} last status={}; giving up", sandboxId, status);
        reports.exitedTerminally(sandboxId, status);
        return gaveUp();
      }
      context.getLog().info("supervisor process exited sandbox_id={} status={}; restarting in {} ms", sandboxId, status, backoff.toMillis());
      reports.platformEvent(sandboxId, DriverPlatformEvent.newBuilder()
          .setTimestampMs(System.currentTimeMillis()).setSource("process").setType("Warning").setReason("ProcessRestarted")
          .setMessage("supervisor process exited with status " + status + "; restarting").build());
      timers.startSingleTimer(Restart.INSTANCE, backoff);
      Duration next = backoff.multipliedBy(2).compareTo(settings.restartMax()) > 0 ? settings.restartMax() : backoff.multipliedBy(2);
      return running(null, next);
    }

    private Behavior<Command> gaveUp() {
      return Behaviors.receive(Command.class)
          .onMessage(Delete.class, delete -> stop(null, delete.replyTo(), true))
          .onMessage(Stop.class, stop -> stop(null, stop.replyTo(), false))
          .build();
    }

    private Behavior<Command> stop(Process process, ActorRef<StatusReply<Boolean>> replyTo, boolean removeState) {
      timers.cancel(Restart.INSTANCE);
      if (process == null || !process.isAlive()) return removeState ? remove(replyTo) : stopped(replyTo);
      context.getLog().info("stopping supervisor process sandbox_id={} pid={} (SIGTERM)", sandboxId, process.pid());
      process.destroy();
      timers.startSingleTimer(GraceOver.INSTANCE, settings.stopGrace());
      return Behaviors.receive(Command.class)
          .onMessage(Exited.class, exited -> exited.process() != process ? Behaviors.same()
              : removeState ? remove(replyTo) : stopped(replyTo))
          .onMessage(GraceOver.class, over -> {
            context.getLog().info("supervisor process ignored SIGTERM sandbox_id={} pid={}; SIGKILL", sandboxId, process.pid());
            process.destroyForcibly();
            return Behaviors.same();
          })
          .onMessage(Started.class, late -> {
            late.process().destroyForcibly();
            return Behaviors.same();
          })
          .onMessage(Delete.class, again -> Behaviors.same())
          .onMessage(Stop.class, again -> Behaviors.same())
          .build();
    }

    private Behavior<Command> stopped(ActorRef<StatusReply<Boolean>> replyTo) {
      timers.cancel(GraceOver.INSTANCE);
      context.getLog().info("supervisor process stopped sandbox_id={} (state kept)", sandboxId);
      replyTo.tell(StatusReply.success(true));
      return Behaviors.stopped();
    }

    private Behavior<Command> remove(ActorRef<StatusReply<Boolean>> replyTo) {
      timers.cancel(GraceOver.INSTANCE);
      context.pipeToSelf(CompletableFuture.runAsync(this::deleteState, blocking), (ok, failure) -> new Removed(failure));
      return Behaviors.receive(Command.class)
          .onMessage(Removed.class, removed -> {
            if (removed.failure() != null) {
              // Keep the record: a retried delete finishes the job.
              replyTo.tell(StatusReply.error("could not remove " + sandboxDir + ": " + removed.failure().getMessage()));
              return gaveUp();
            }
            context.getLog().info("sandbox state removed sandbox_id={}", sandboxId);
            reports.deleted(sandboxId, replyTo);
            return Behaviors.stopped();
          })
          .onMessage(Started.class, late -> {
            late.process().destroyForcibly();
            return Behaviors.same();
          })
          .onAnyMessage(other -> Behaviors.same())
          .build();
    }

    private void deleteState() {
      try {
        deleteTree(sandboxDir);
        deleteTree(LaunchPlan.plainSocketPath(sandboxId).getParent());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private static void deleteTree(Path root) throws IOException {
      if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
      try (var paths = Files.walk(root)) {
        for (Path path : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(path);
      }
    }
  }
}
