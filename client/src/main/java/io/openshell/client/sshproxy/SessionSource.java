package io.openshell.client.sshproxy;

import io.openshell.client.sshsession.SshSession;

/** Where the proxy's session comes from: given on the command line, or minted (and cached) by sandbox name. */
interface SessionSource {

  /** The session to CONNECT with; may throw {@link io.openshell.client.sshsession.SshSessions.NotReady}. */
  SshSession current();

  /** A replacement after the gateway answered 401 to {@code rejected}, or null when there is none to try. */
  SshSession replacing(SshSession rejected);

  /** Token mode: exactly the session on the command line. */
  final class Given implements SessionSource {
    private final SshSession session;

    Given(SshSession session) {
      this.session = session;
    }

    @Override
    public SshSession current() {
      return session;
    }

    @Override
    public SshSession replacing(SshSession rejected) {
      return null;
    }
  }
}
