package io.openshell.gateway.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

/** The test SSH server's exec: {@code bash -c <command>} with three pump threads (test-only, small data). */
final class BashCommand implements Command {
  private final String command;
  private InputStream in;
  private OutputStream out;
  private OutputStream err;
  private ExitCallback exit;
  private Process process;

  BashCommand(String command) {
    this.command = command;
  }

  @Override public void setInputStream(InputStream in) { this.in = in; }
  @Override public void setOutputStream(OutputStream out) { this.out = out; }
  @Override public void setErrorStream(OutputStream err) { this.err = err; }
  @Override public void setExitCallback(ExitCallback callback) { this.exit = callback; }

  @Override
  public void start(ChannelSession channel, Environment env) throws IOException {
    process = new ProcessBuilder("bash", "-c", command).start();
    Thread stdin = pump(in, process.getOutputStream(), true);
    Thread stdout = pump(process.getInputStream(), out, false);
    Thread stderr = pump(process.getErrorStream(), err, false);
    Thread waiter = new Thread(() -> {
      try {
        int code = process.waitFor();
        stdout.join();
        stderr.join();
        exit.onExit(code);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    waiter.setDaemon(true);
    waiter.start();
  }

  private static Thread pump(InputStream from, OutputStream to, boolean closeTarget) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[8192];
      try {
        int n;
        while ((n = from.read(buffer)) >= 0) {
          to.write(buffer, 0, n);
          to.flush();
        }
      } catch (IOException ignored) {
        // the channel or the process went away
      } finally {
        if (closeTarget) {
          try {
            to.close();
          } catch (IOException ignored) {
            // already closed
          }
        }
      }
    });
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  @Override
  public void destroy(ChannelSession channel) {
    if (process != null) process.destroyForcibly();
  }
}
