//! Weight averaging: the mean of a run's last few epochs' weights, exported as one network.
//! Fine-tuning from one pretrained start keeps consecutive epochs in one basin, where the mean
//! of the points Adam wanders through usually scores better on held-out files than any one of
//! them (stochastic weight averaging; `export --average`).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use motif::model::{MusicModel, param_values};

/// The element-wise mean of `models`' float parameters, in the first model's shape. All models
/// must share one configuration (epochs of one run do).
pub fn average(models: Vec<MusicModel>) -> MusicModel {
    let mut models = models.into_iter();
    let first = models.next().expect("at least one model to average");
    let mut sums = Collect::default();
    first.visit(&mut sums);
    let mut count = 1.0;
    for model in models {
        let mut values = Collect::default();
        model.visit(&mut values);
        assert_eq!(values.0.len(), sums.0.len(), "models of one configuration");
        for (sum, value) in sums.0.iter_mut().zip(values.0) {
            sum.iter_mut().zip(value).for_each(|(s, v)| *s += v);
        }
        count += 1.0;
    }
    for sum in &mut sums.0 {
        sum.iter_mut().for_each(|s| *s /= count);
    }
    first.map(&mut Replace(sums.0.into_iter()))
}

/// Every float parameter's values, in the module's visiting order.
#[derive(Default)]
struct Collect(Vec<Vec<f32>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param_values(param));
    }
}

/// Puts values collected by [`Collect`] back, in the same order.
struct Replace(std::vec::IntoIter<Vec<f32>>);

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let values = self.0.next().expect("one value list per parameter");
        param.map(|tensor| {
            let (shape, device) = (tensor.shape(), tensor.device());
            Tensor::from_data(TensorData::new(values, shape), &device)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motif::model::ModelConfig;

    fn first_weights(model: &MusicModel) -> Vec<f32> {
        let mut values = Collect::default();
        model.visit(&mut values);
        values.0.swap_remove(0)
    }

    #[test]
    fn the_mean_of_two_networks_lies_between_them() {
        let device = Device::flex();
        let config = ModelConfig::new(20)
            .with_hidden(8)
            .with_embedding(4)
            .with_dense(8);
        device.seed(1);
        let a = config.init(&device);
        device.seed(2);
        let b = config.init(&device);
        let (wa, wb) = (first_weights(&a), first_weights(&b));
        let mean = first_weights(&average(vec![a, b]));
        assert_eq!(mean.len(), wa.len());
        assert!(wa != wb);
        for ((m, x), y) in mean.iter().zip(&wa).zip(&wb) {
            assert!((m - (x + y) / 2.0).abs() < 1e-6);
        }
    }
}
