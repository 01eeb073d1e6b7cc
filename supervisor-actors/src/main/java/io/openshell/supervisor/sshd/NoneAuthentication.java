package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.util.List;
import org.apache.sshd.common.Service;
import org.apache.sshd.common.ServiceFactory;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.session.ServerConnectionServiceFactory;
import org.apache.sshd.server.session.ServerUserAuthService;
import org.apache.sshd.server.session.ServerUserAuthServiceFactory;

/**
 * SSH auth method {@code none} that succeeds, as the sandbox daemon's contract says (authorization
 * already happened: gateway token plus socket permissions). MINA's server only ever answers "none"
 * with the list of methods, so a "none" request is handed to MINA as a password request with an
 * empty password, which the accept-all password authenticator grants; the client sees its "none"
 * request succeed and nothing else changes on the wire.
 */
final class NoneAuthentication {
  private NoneAuthentication() {}

  /** The server's services, with the user-auth one replaced. */
  static List<ServiceFactory> serviceFactories() {
    return List.of(new ServerUserAuthServiceFactory() {
      @Override
      public Service create(Session session) throws IOException {
        return new NoneAcceptingUserAuthService(session);
      }
    }, ServerConnectionServiceFactory.INSTANCE);
  }

  static Buffer asEmptyPasswordRequest(Buffer request) {
    int start = request.rpos();
    String user = request.getString();
    String service = request.getString();
    String method = request.getString();
    request.rpos(start);
    if (!"none".equals(method)) {
      return request;
    }
    ByteArrayBuffer rewritten = new ByteArrayBuffer();
    rewritten.putString(user);
    rewritten.putString(service);
    rewritten.putString("password");
    rewritten.putBoolean(false);
    rewritten.putString("");
    return rewritten;
  }

  private static final class NoneAcceptingUserAuthService extends ServerUserAuthService {
    NoneAcceptingUserAuthService(Session session) throws IOException {
      super(session);
    }

    @Override
    public synchronized void process(int cmd, Buffer buffer) throws Exception {
      super.process(cmd, cmd == SshConstants.SSH_MSG_USERAUTH_REQUEST ? asEmptyPasswordRequest(buffer) : buffer);
    }
  }
}
