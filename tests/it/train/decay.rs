//! Weight decay touches the weight matrices only.

use burn::tensor::Tensor;
use cadenza::model::{CpuTrainBackend, TransformerXlConfig};

/// Any vocabulary size: the model is not trained here.
const VOCAB: usize = 30;

/// Every parameter as (id, number of dimensions, values), in module order.
struct Params(Vec<(burn::module::ParamId, usize, Vec<f32>)>);

impl<B: burn::tensor::backend::Backend> burn::module::ModuleVisitor<B> for Params {
    fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<B, D>>) {
        let v = p
            .val()
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .unwrap();
        self.0.push((p.id, D, v));
    }
}

/// Sets parameter k to the constant 0.5 + k / 100 (the position biases start at zero, where a
/// decay would not show).
struct Fill(usize);

impl<B: burn::tensor::backend::AutodiffBackend> burn::module::ModuleMapper<B> for Fill {
    fn map_float<const D: usize>(
        &mut self,
        p: burn::module::Param<Tensor<B, D>>,
    ) -> burn::module::Param<Tensor<B, D>> {
        let (id, t, mapper) = p.consume();
        let v = 0.5 + self.0 as f32 / 100.0;
        self.0 += 1;
        let filled = t.zeros_like().add_scalar(v).detach().require_grad();
        burn::module::Param::from_mapped_value(id, filled, mapper)
    }
}

#[test]
fn weight_decay_touches_weight_matrices_only() {
    use burn::module::Module;
    use cadenza::train::adamw::WeightDecay;
    let model = crate::support::model::<CpuTrainBackend>(&TransformerXlConfig::tiny(VOCAB), 1);
    let model = model.map(&mut Fill(0));
    let skip: std::collections::HashSet<_> = model.position_bias_ids().into_iter().collect();
    assert_eq!(skip.len(), 2 * model.layers.len());
    let mut before = Params(Vec::new());
    model.visit(&mut before);
    let factor = WeightDecay::factor(1e-3, 0.1);
    let decayed = model.map(&mut WeightDecay {
        factor,
        skip: &skip,
    });
    let mut after = Params(Vec::new());
    decayed.visit(&mut after);
    let (mut matrices, mut kept) = (0, 0);
    for ((id, dims, b), (id2, _, a)) in before.0.iter().zip(&after.0) {
        assert_eq!(id, id2);
        if *dims >= 2 && !skip.contains(id) {
            matrices += 1;
            assert!(
                a.iter().zip(b).all(|(x, y)| *x == y * factor),
                "{id} not decayed"
            );
        } else {
            kept += 1;
            assert_eq!(a, b, "{id} ({dims}-D) decayed");
        }
    }
    // Embedding, q/kv/r/o and the two feed-forward matrices per layer; biases, LayerNorms and
    // the position biases kept.
    assert_eq!(matrices, 1 + 6 * decayed.layers.len());
    assert!(kept > skip.len());
}
