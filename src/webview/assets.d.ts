// esbuild bundles imported CSS into inspector.css next to the script.
declare module '*.css';
