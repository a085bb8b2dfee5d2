package org.adcsr.core;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Run in a fresh JVM by {@link NoNetworkTest}, so its hooks are in place before any DJL class loads. Prints one
 * {@code NETWORK <uri>} line per attempt and exits 1 if there was any.
 *
 * <p>DJL reaches the network through {@code java.net.URL#openConnection} (HttpURLConnection: the EC2 metadata
 * call-home in {@code Ec2Utils}, native downloads in {@code Utils.openUrl}). Two hooks record, and block, that:
 * a {@link java.net.URLStreamHandlerFactory} for http/https/ftp, and a default {@link ProxySelector}, which the JDK
 * consults for every HTTP connection and every plain {@link Socket} connect. Not covered: DNS look-ups, NIO channels.
 *
 * <p>Modes: {@code engines} (our start-up path), {@code raw-djl} (DJL with no settings: must be caught), and
 * {@code self-test} (a URL and a socket: both must be caught).
 */
public final class NoNetworkProbe {
    static final List<String> ATTEMPTS = Collections.synchronizedList(new ArrayList<>());

    public static void main(String[] args) throws Exception {
        installHooks();
        switch (args[0]) {
            case "engines":
                Engine engine = Engines.start(Engines.Target.CPU, 1);
                try (NDManager m = engine.newBaseManager()) {
                    NDArray x = m.arange(6f).reshape(2, 3);
                    float sum = x.matMul(x.transpose()).sum().getFloat();
                    System.out.println("sum " + sum);
                }
                Engine.getInstance(); // the default-engine path is where DJL calls home
                break;
            case "raw-djl":
                Engine.getInstance();
                break;
            case "self-test":
                try {
                    new URL("http://192.0.2.1/x").openStream();
                } catch (IOException expected) {
                    // blocked
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("192.0.2.1", 80), 500);
                } catch (IOException expected) {
                    // blocked
                }
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
        synchronized (ATTEMPTS) {
            ATTEMPTS.forEach(a -> System.out.println("NETWORK " + a));
        }
        System.exit(ATTEMPTS.isEmpty() ? 0 : 1);
    }

    static void installHooks() {
        URL.setURLStreamHandlerFactory(protocol -> {
            if (!List.of("http", "https", "ftp").contains(protocol)) {
                return null; // file:, jar: and friends: the JDK's own handlers
            }
            return new URLStreamHandler() {
                @Override
                protected URLConnection openConnection(URL u) throws IOException {
                    ATTEMPTS.add(u.toString());
                    throw new IOException("network blocked by NoNetworkProbe: " + u);
                }

                @Override
                protected URLConnection openConnection(URL u, Proxy p) throws IOException {
                    return openConnection(u); // DJL's Ec2Utils passes Proxy.NO_PROXY
                }
            };
        });
        ProxySelector.setDefault(new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                ATTEMPTS.add(uri.toString());
                // a SOCKS proxy on a closed local port: the connection fails fast instead of leaving the machine
                return List.of(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1", 1)));
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
        });
    }
}
