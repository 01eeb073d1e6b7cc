package io.openshell.supervisor.sshd;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The program behind one SSH session channel: {@code bash -lc COMMAND} for exec, a login shell for
 * shell; on a PTY when the client asked for one, on pipes otherwise. The program leads a new
 * session, so the channel's end hangs up exactly its processes ({@link ChannelHangup}).
 *
 * <p>Each direction is pumped by its own thread with blocking streams: the channel's window is the
 * backpressure, and neither direction waits on the other (full-duplex bulk data does not stall).
 * Output order is data, then EOF, then exit-status, then close.
 */
final class ChannelProgram implements Command {
  private static final Logger log = LoggerFactory.getLogger(ChannelProgram.class);
  private static final int PUMP_BUFFER = 32 * 1024;

  private final String command;
  private final SshDaemonSettings settings;
  private final ExecutorService pumps;
  private final ScheduledExecutorService timer;
  private final AtomicBoolean hungUp = new AtomicBoolean();

  private InputStream in;
  private OutputStream out;
  private OutputStream err;
  private ExitCallback exit;
  private volatile Process process;
  private volatile String label = "channel";

  /** {@code command} null: an interactive login shell. */
  ChannelProgram(String command, SshDaemonSettings settings, ExecutorService pumps, ScheduledExecutorService timer) {
    this.command = command;
    this.settings = settings;
    this.pumps = pumps;
    this.timer = timer;
  }

  @Override
  public void setInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public void setOutputStream(OutputStream out) {
    this.out = out;
  }

  @Override
  public void setErrorStream(OutputStream err) {
    this.err = err;
  }

  @Override
  public void setExitCallback(ExitCallback exit) {
    this.exit = exit;
  }

  @Override
  public void start(ChannelSession channel, Environment environment) throws IOException {
    label = "channel " + channel.getChannelId() + " of " + channel.getSession();
    Map<String, String> requested = environment.getEnv();
    boolean pty = !environment.getPtyModes().isEmpty() || requested.containsKey(Environment.ENV_COLUMNS);
    Map<String, String> env = programEnvironment(requested, pty);
    List<String> argv = ShellArguments.forCommand(settings.shell(), command);
    String directory = workingDirectory(env);
    try {
      startProgram(channel, environment, requested, env, argv, directory, pty);
    } catch (IOException cannotStart) {
      // The client gets a reason and an exit status, as from a shell that cannot run a program,
      // instead of a channel that closes without either.
      log.warn("cannot start the program of {}: {}", label, cannotStart.toString());
      pumps.execute(() -> {
        try {
          err.write(("openshell: cannot start " + settings.shell() + ": " + cannotStart.getMessage() + "\n")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
          err.flush();
        } catch (IOException channelGone) {
          // nothing left to tell
        }
        closeQuietly(err);
        closeQuietly(out);
        exit.onExit(126);
      });
    }
  }

  private void startProgram(ChannelSession channel, Environment environment, Map<String, String> requested,
      Map<String, String> env, List<String> argv, String directory, boolean pty) throws IOException {

    if (pty) {
      PtyProcess ptyProcess = new PtyProcessBuilder(argv.toArray(String[]::new))
          .setEnvironment(env)
          .setDirectory(directory)
          .setInitialColumns(dimension(requested.get(Environment.ENV_COLUMNS), 80))
          .setInitialRows(dimension(requested.get(Environment.ENV_LINES), 24))
          .setConsole(false)
          .start();
      process = ptyProcess;
      // window-change updates the channel's environment, then signals WINCH.
      environment.addSignalListener((ch, signal) -> ptyProcess.setWinSize(new WinSize(
              dimension(environment.getEnv().get(Environment.ENV_COLUMNS), 80),
              dimension(environment.getEnv().get(Environment.ENV_LINES), 24))),
          Signal.WINCH);
      // A PTY has one output: stdout and stderr arrive merged, as with OpenSSH.
      CompletableFuture<Void> output = pump(ptyProcess.getInputStream(), out, "pty output");
      pumpInput(ptyProcess.getOutputStream(), false);
      finishWhenDone(ptyProcess, List.of(output));
    } else {
      List<String> detached = new ArrayList<>();
      // setsid execs in place (the child of a JVM is never a group leader): pid = session id.
      detached.add(settings.setsid());
      detached.addAll(argv);
      ProcessBuilder builder = new ProcessBuilder(detached).directory(new java.io.File(directory));
      builder.environment().clear();
      builder.environment().putAll(env);
      Process piped = builder.start();
      process = piped;
      CompletableFuture<Void> stdout = pump(piped.getInputStream(), out, "stdout");
      CompletableFuture<Void> stderr = pump(piped.getErrorStream(), err, "stderr");
      pumpInput(piped.getOutputStream(), true);
      finishWhenDone(piped, List.of(stdout, stderr));
    }
    environment.addSignalListener((ch, signal) -> {
      // "signal" requests from the client go to the program's process group, as with OpenSSH.
      Process running = process;
      if (running != null && signal != Signal.WINCH) ProcessSignals.signalGroup(running.pid(), signal.getNumeric());
    });
    log.info("started {} for {} (pid {}, pty {})", command == null ? "login shell" : "command", label, process.pid(), pty);
  }

  private Map<String, String> programEnvironment(Map<String, String> requested, boolean pty) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.putAll(requested);
    // Sizes belong to the PTY, not to the program's environment.
    env.remove(Environment.ENV_COLUMNS);
    env.remove(Environment.ENV_LINES);
    if (pty) {
      String term = requested.get(Environment.ENV_TERM);
      env.put(Environment.ENV_TERM, term == null || term.isBlank() ? settings.defaultTerm() : term);
    }
    return env;
  }

  private static String workingDirectory(Map<String, String> env) {
    String home = env.get("HOME");
    if (home != null && new java.io.File(home).isDirectory()) return home;
    return System.getProperty("user.dir");
  }

  private static int dimension(String value, int fallback) {
    try {
      int parsed = Integer.parseInt(value);
      return parsed > 0 ? parsed : fallback;
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private CompletableFuture<Void> pump(InputStream from, OutputStream to, String what) {
    return CompletableFuture.runAsync(() -> {
      byte[] buffer = new byte[PUMP_BUFFER];
      try {
        int n;
        while ((n = from.read(buffer)) >= 0) {
          to.write(buffer, 0, n);
          to.flush();
        }
      } catch (IOException e) {
        // A PTY reports EIO once the last holder of its terminal is gone: that is its end of output.
        log.info("{} of {} ended: {}", what, label, e.toString());
      }
    }, pumps);
  }

  /** Channel input to the program; on a pipe, the channel's EOF closes the program's stdin. */
  private void pumpInput(OutputStream toProgram, boolean closeOnEof) {
    pumps.execute(() -> {
      byte[] buffer = new byte[PUMP_BUFFER];
      try {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          toProgram.write(buffer, 0, n);
          toProgram.flush();
        }
        if (closeOnEof) toProgram.close();
      } catch (IOException e) {
        // The program stopped reading (it exited) or the channel closed.
        log.debug("input of {} ended: {}", label, e.toString());
      }
    });
  }

  private void finishWhenDone(Process program, List<CompletableFuture<Void>> outputs) {
    program.onExit().thenAcceptAsync(exited -> {
      int code = exitCode(exited);
      try {
        // Output still in the pipes comes first; a background job holding them open does not
        // keep the channel waiting beyond the drain bound.
        CompletableFuture.allOf(outputs.toArray(CompletableFuture[]::new))
            .get(settings.outputDrainAfterExit().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        log.info("output of {} still open {} after the program exited; closing it", label, settings.outputDrainAfterExit());
      } catch (Exception e) {
        log.debug("draining output of {}: {}", label, e.toString());
      }
      closeQuietly(err);
      closeQuietly(out);
      log.info("program of {} exited with {}", label, code);
      exit.onExit(code);
    }, pumps);
  }

  private static int exitCode(Process exited) {
    try {
      return exited.exitValue();
    } catch (IllegalThreadStateException e) {
      return 255;
    }
  }

  private static void closeQuietly(OutputStream stream) {
    try {
      stream.close();
    } catch (IOException e) {
      // The channel is already gone.
    }
  }

  /** The channel closed (normally, or because the client, relay or session vanished). */
  @Override
  public void destroy(ChannelSession channel) {
    Process running = process;
    if (running != null && hungUp.compareAndSet(false, true)) {
      // Scanning /proc and signalling happen on the hang-up thread, not on MINA's I/O thread.
      Runnable hangUp = () -> ChannelHangup.hangUp(running.pid(), label, settings.hangupGrace(), timer);
      try {
        timer.execute(hangUp);
      } catch (java.util.concurrent.RejectedExecutionException daemonStopping) {
        hangUp.run();
      }
    }
  }
}
