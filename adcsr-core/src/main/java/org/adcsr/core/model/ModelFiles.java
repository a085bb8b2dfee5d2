package org.adcsr.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.TorchCheckpoint;

/**
 * Model weight files: our safetensors files (keys {@code unet.…} and {@code decoder.…}, the architecture in
 * {@code __metadata__}) and the official AdcSR files ({@code net_params_*.pkl} with {@code halfDecoder.ckpt}), told
 * apart by their content, not their names.
 */
public final class ModelFiles {
    /** {@code __metadata__} key of the format tag. */
    public static final String FORMAT_KEY = "format";
    /** Format tag of our AdcSR weight files. */
    public static final String FORMAT = "adcsr-weights/1";
    /** {@code __metadata__} key holding the {@link AdcsrConfig} JSON. */
    public static final String CONFIG_KEY = "adcsr.config";

    /** Where users find the official weights, for messages. */
    public static final String OFFICIAL_WEIGHTS = "the official weights are published at "
            + "huggingface.co/Guaishou74851/AdcSR (weight/net_params_200.pkl and weight/pretrained/halfDecoder.ckpt)";

    private ModelFiles() {
    }

    /** What a file's first bytes say it is. */
    enum Kind { SAFETENSORS, TORCH_ZIP }

    static Kind sniff(Path file) {
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw BadInputException.of(file, "no such file");
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Kind.TORCH_ZIP;
        }
        if (n == 9 && head[8] == '{') {
            return Kind.SAFETENSORS;
        }
        throw BadInputException.of(file, "neither a safetensors file nor a PyTorch checkpoint");
    }

    /**
     * Loads a model. {@code weights} is our safetensors file or the official {@code net_params_*.pkl}; the latter
     * needs {@code decoder} ({@code halfDecoder.ckpt}). With our files, {@code decoder} is optional and supplies the
     * {@code decoder.*} tensors the weights file lacks (a student-only file).
     *
     * @param config the architecture, or null to take it from the file's metadata (the paper's when absent)
     */
    public static AdcsrModel load(Path weights, Path decoder, AdcsrConfig config, NDManager manager,
            DataType type) {
        return load(weights, decoder, config, manager, type, PicklePolicy.STRICT);
    }

    /** {@link #load}, with the policy for pickle globals outside the whitelist of a PyTorch checkpoint. */
    public static AdcsrModel load(Path weights, Path decoder, AdcsrConfig config, NDManager manager,
            DataType type, PicklePolicy policy) {
        return withView(weights, decoder, config, policy, (view, c) -> AdcsrModel.load(c, view,
                OfficialLayout.IGNORABLE, manager, type));
    }

    /**
     * The architecture of a model's files, after checking every key and shape against it, without reading any
     * tensor data; arguments as {@link #load}.
     */
    public static AdcsrConfig check(Path weights, Path decoder, AdcsrConfig config) {
        return check(weights, decoder, config, PicklePolicy.STRICT);
    }

    /** {@link #check}, with the policy for pickle globals outside the whitelist of a PyTorch checkpoint. */
    public static AdcsrConfig check(Path weights, Path decoder, AdcsrConfig config, PicklePolicy policy) {
        return withView(weights, decoder, config, policy, (view, c) -> {
            KeyCheck.check(view, AdcsrModel.parameterList(c), OfficialLayout.IGNORABLE);
            return c;
        });
    }

    /**
     * Opens a model's files as one view in our naming ({@code unet.…}, {@code decoder.…}), checks every key and shape
     * against the architecture, and hands both to {@code user}; the files are closed when it returns. For engines
     * that take the weights themselves (ONNX Runtime); arguments as {@link #load}.
     */
    public static <T> T read(Path weights, Path decoder, AdcsrConfig config, PicklePolicy policy,
            java.util.function.BiFunction<TensorSource, AdcsrConfig, T> user) {
        return withView(weights, decoder, config, policy, (view, c) -> {
            KeyCheck.check(view, AdcsrModel.parameterList(c), OfficialLayout.IGNORABLE);
            return user.apply(view, c);
        });
    }

    private interface ViewUser<T> {
        T use(TensorSource view, AdcsrConfig config);
    }

    /** Opens the files, maps them to our names, and hands the view and the architecture to {@code user}. */
    private static <T> T withView(Path weights, Path decoder, AdcsrConfig config, PicklePolicy policy,
            ViewUser<T> user) {
        List<AutoCloseable> open = new ArrayList<>();
        try {
            TensorSource main = open(weights, open, policy);
            TensorSource view;
            if (main instanceof TorchTensorSourceHolder h) {
                if (decoder == null) {
                    throw BadInputException.of(weights, "an official net_params file needs the decoder too "
                            + "(--decoder halfDecoder.ckpt); " + OFFICIAL_WEIGHTS);
                }
                view = OfficialLayout.view(main, open(decoder, open, policy), h.checkpoint::sameView);
            } else {
                view = decoder == null ? main : merged(main, open(decoder, open, policy));
            }
            return user.use(view, config != null ? config : configOf(main));
        } finally {
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // read-only files: nothing to lose
                }
            }
        }
    }

    /**
     * A Stage-1 decoder's tensors under our names ({@code decoder.*}) for {@code user}: our safetensors files
     * (adcsr-prune's {@code decoder_init.safetensors}, adcsr-train-vae's {@code decoder.safetensors}) or the
     * official {@code halfDecoder.ckpt} ({@code [state_dict.]decoder.*}; its other entries are ignored). The user
     * also gets the architecture the file records in its metadata, or null (the official file records none).
     */
    public static <T> T withDecoder(Path file, PicklePolicy policy,
            java.util.function.BiFunction<TensorSource, AdcsrConfig, T> user) {
        List<AutoCloseable> open = new ArrayList<>();
        try {
            TensorSource s = open(file, open, policy);
            String prefix = OfficialLayout.decoderPrefix(s);
            RenamedTensorSource v = new RenamedTensorSource(file);
            for (String n : s.names()) {
                if (n.startsWith(prefix)) {
                    v.put(AdcsrNetwork.DECODER + n.substring(prefix.length()), s, n);
                }
            }
            return user.apply(v, s.metadata().containsKey(CONFIG_KEY) ? configOf(s) : null);
        } finally {
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // read-only files
                }
            }
        }
    }

    /** The architecture recorded in a source's metadata, or the paper's when none is recorded. */
    static AdcsrConfig configOf(TensorSource source) {
        String json = source.metadata().get(CONFIG_KEY);
        if (json == null) {
            return AdcsrConfig.paper();
        }
        try {
            return AdcsrConfig.fromJson(json);
        } catch (BadInputException e) {
            throw BadInputException.of(source.path(), e.getMessage());
        }
    }

    private static TensorSource merged(TensorSource main, TensorSource decoder) {
        RenamedTensorSource v = new RenamedTensorSource(main.path());
        for (String n : main.names()) {
            v.put(n, main, n);
        }
        for (String n : decoder.names()) {
            if (n.startsWith(AdcsrNetwork.DECODER) && !main.contains(n)) {
                v.put(n, decoder, n);
            }
        }
        return v;
    }

    /** A torch checkpoint's tensors, remembering the checkpoint for alias checks. */
    private record TorchTensorSourceHolder(TorchCheckpoint checkpoint, TensorSource tensors)
            implements TensorSource {
        @Override
        public Path path() {
            return tensors.path();
        }

        @Override
        public List<String> names() {
            return tensors.names();
        }

        @Override
        public org.adcsr.core.io.TensorInfo info(String name) {
            return tensors.info(name);
        }

        @Override
        public float[] readFloats(String name) {
            return tensors.readFloats(name);
        }

        @Override
        public Map<String, String> metadata() {
            return tensors.metadata();
        }

        @Override
        public void close() {
            checkpoint.close();
        }
    }

    private static TensorSource open(Path file, List<AutoCloseable> open, PicklePolicy policy) {
        TensorSource s = switch (sniff(file)) {
            case SAFETENSORS -> SafetensorsReader.open(file);
            case TORCH_ZIP -> {
                TorchCheckpoint ckpt = TorchCheckpoint.open(file, policy);
                yield new TorchTensorSourceHolder(ckpt, ckpt.tensors());
            }
        };
        open.add(s);
        return s;
    }

    /**
     * Saves a model as our safetensors file: its parameters under their keys, the format tag and the architecture
     * in {@code __metadata__}, plus {@code extra} metadata (provenance), written atomically.
     */
    public static void save(AdcsrModel model, Path out, Map<String, String> extra, DType type) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put(FORMAT_KEY, FORMAT);
        meta.put(CONFIG_KEY, model.config().toJson().replaceAll("\\s+", ""));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
            NDArray a = p.getValue();
            entries.add(new SafetensorsWriter.Entry(p.getKey(), a.getShape().getShape(),
                    () -> a.toType(DataType.FLOAT32, false).toFloatArray()));
        }
        SafetensorsWriter.write(out, meta, entries, type);
    }
}
