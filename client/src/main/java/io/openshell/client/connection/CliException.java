package io.openshell.client.connection;

/** A failure the CLI reports as one line {@code error: <message>} and an exit code. */
public class CliException extends RuntimeException {
  private final int exitCode;

  public CliException(String message, int exitCode) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  public CliException(String message) {
    this(message, 1);
  }

  public int exitCode() {
    return exitCode;
  }
}
